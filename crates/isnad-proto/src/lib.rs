//! Generated gRPC code for isnad.v1 and conversions to the core's types.
