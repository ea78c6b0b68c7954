//! End-to-end test support: start real servers and nats-server processes.
