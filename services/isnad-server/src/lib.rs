//! The Isnad ledger gRPC service.
//!
//! [`run`] serves the capture, registry, verification and log services (plus gRPC health and
//! reflection) over an already bound listener until a shutdown future resolves, so that tests
//! drive the real server on `127.0.0.1:0`. The data directory is created by [`init::init`].
//!
//! When the sequencer stops on a failure (a storage error such as a full disk), every service
//! turns NOT_SERVING in gRPC health, the server stops and [`run`] returns an error, so that
//! the process exits non-zero and its supervisor restarts it from what is durable.

pub mod auth;
pub mod codec;
pub mod error;
pub mod init;
pub mod ledger;
pub mod policy;
pub mod rate;
pub mod scrub;
pub mod service;
pub mod tls;
pub mod transport;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use isnad_proto::contract::{
    REQUEST_BYTES_MAX, RESPONSE_BYTES_MAX, SIGNED_EVENT_BYTES_MAX, STREAMS_PER_CONNECTION_MAX,
    UNARY_CALL_TIMEOUT,
};
use isnad_proto::pb;
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::ledger::Ledger;
use crate::service::capture::{CaptureService, RegistryService};
use crate::service::log::LogService;
use crate::service::verification::VerificationService;

/// How long the server drains after its sequencer failed before it stops anyway: nothing is
/// left to commit, so long-lived streams (follow, health watch) are not waited for longer
/// than it takes them to read that the server is NOT_SERVING.
pub const FAILED_DRAIN_MAX: Duration = Duration::from_secs(5);

/// The gRPC services this server reports on in health, by their full names; the empty name
/// is the whole server.
const HEALTH_SERVICES: [&str; 5] = [
    "",
    <pb::capture_server::CaptureServer<CaptureService> as NamedService>::NAME,
    <pb::verification_server::VerificationServer<VerificationService> as NamedService>::NAME,
    <pb::log_server::LogServer<LogService> as NamedService>::NAME,
    <pb::registry_server::RegistryServer<RegistryService> as NamedService>::NAME,
];

/// What `serve` needs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The data directory made by `isnad-server init`.
    pub data_dir: PathBuf,
    /// How often the background scrub re-hashes every entry against the tree.
    pub scrub_interval: Duration,
    /// Connections held open at most; beyond it the server stops accepting until one closes.
    pub connections_max: usize,
    /// Requests per caller (party, else address).
    pub rate_limits: rate::RateLimits,
    /// TLS, from [`tls::load`]; without it the server speaks plain text, on loopback only.
    pub tls: Option<tonic::transport::ServerTlsConfig>,
    /// Serve plain text on a non-loopback address anyway (`--insecure-plaintext`).
    pub insecure_plaintext: bool,
    /// How many `Verify` answers are computed at once and how many wait (then shed).
    pub verify_gate: service::gate::GateOptions,
}

impl ServeOptions {
    /// Serving `data_dir` with the default scrub interval and connection cap.
    pub fn new(data_dir: PathBuf) -> ServeOptions {
        ServeOptions {
            data_dir,
            scrub_interval: scrub::SCRUB_INTERVAL_DEFAULT,
            connections_max: transport::CONNECTIONS_MAX_DEFAULT,
            rate_limits: rate::RateLimits::default(),
            tls: None,
            insecure_plaintext: false,
            verify_gate: service::gate::GateOptions::default(),
        }
    }
}

/// Serves the ledger on `listener` until `shutdown` resolves, then drains: in-flight requests
/// finish, the sequencer commits what it has taken, and the store is flushed.
pub async fn run(
    options: ServeOptions,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    tls::check_plaintext(
        listener.local_addr()?,
        options.tls.is_some(),
        options.insecure_plaintext,
    )?;
    let builder = tls::builder(options.tls.as_ref())?;
    let opened = init::open(&options.data_dir)?;
    let ledger = Ledger::start(opened.store.clone(), opened.signer)?;
    let published = ledger.published();
    tracing::info!(
        address = %listener.local_addr()?,
        origin = %ledger.genesis().origin,
        tree_size = published.tree.size.0,
        tls = options.tls.is_some(),
        "serving"
    );
    // Scripts and tests read the bound address (the port may have been 0) from stdout; it is
    // printed once the store is open and the sequencer runs, so it also means "ready".
    println!("listening on {}", listener.local_addr()?);
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    set_health(&health_reporter, ServingStatus::Serving).await;
    // Reflection in both versions: `grpc.reflection.v1` for current clients, and
    // `v1alpha` for those that speak only it (Python's grpcio-reflection, older grpcurl builds,
    // several GUI clients).
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(isnad_proto::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(isnad_proto::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let scrubs = Arc::new(scrub::Scrubs::default());
    let scrub = tokio::spawn(scrub::run(
        ledger.store().clone(),
        options.scrub_interval,
        scrubs,
        {
            let ledger = ledger.clone();
            async move { ledger.closed().await }
        },
    ));
    let serving = builder
        .layer(tower::util::MapResponseLayer::new(
            codec::contract_status::<tonic::body::Body>,
        ))
        // Inside the codec rewrite, whose refusals it never needs: its own carry a reason.
        .layer(auth::AuthLayer::new(ledger.clone(), options.rate_limits))
        .timeout(UNARY_CALL_TIMEOUT)
        .http2_keepalive_interval(Some(transport::HTTP2_KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(transport::HTTP2_KEEPALIVE_TIMEOUT))
        .max_concurrent_streams(STREAMS_PER_CONNECTION_MAX)
        .add_service(health_service)
        .add_service(reflection)
        .add_service(reflection_v1alpha)
        .add_service(
            pb::capture_server::CaptureServer::new(CaptureService::new(ledger.clone()))
                .max_decoding_message_size(REQUEST_BYTES_MAX)
                .max_encoding_message_size(RESPONSE_BYTES_MAX),
        )
        .add_service(
            pb::registry_server::RegistryServer::new(RegistryService::new(ledger.clone()))
                .max_decoding_message_size(SIGNED_EVENT_BYTES_MAX),
        )
        .add_service(
            pb::verification_server::VerificationServer::new(VerificationService::new(
                ledger.clone(),
                options.verify_gate,
            ))
            .max_decoding_message_size(REQUEST_BYTES_MAX)
            .max_encoding_message_size(RESPONSE_BYTES_MAX),
        )
        .add_service(
            pb::log_server::LogServer::new(LogService::new(ledger.clone()))
                .max_decoding_message_size(REQUEST_BYTES_MAX)
                .max_encoding_message_size(RESPONSE_BYTES_MAX),
        )
        .serve_with_incoming_shutdown(incoming(listener, options.connections_max), {
            let ledger = ledger.clone();
            async move {
                tokio::select! {
                    () = shutdown => {}
                    _ = ledger.failed() => {}
                }
                ledger.begin_shutdown();
            }
        });
    tokio::pin!(serving);
    tokio::select! {
        served = &mut serving => served?,
        failure = ledger.failed() => {
            set_health(&health_reporter, ServingStatus::NotServing).await;
            if tokio::time::timeout(FAILED_DRAIN_MAX, serving).await.is_err() {
                tracing::warn!("streams still open after the drain; stopping anyway");
            }
            anyhow::bail!("the sequencer stopped ({failure}); restart to recover from what is durable");
        }
    }
    let _ = scrub.await;
    ledger.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// The connections accepted on `listener`, at most `connections_max` open at once, each with
/// `TCP_NODELAY` set (see [`transport::incoming`]).
fn incoming(
    listener: TcpListener,
    connections_max: usize,
) -> impl futures::Stream<Item = std::io::Result<transport::Connection>> + Send {
    transport::incoming(listener, connections_max)
}

/// Sets every service's health status.
async fn set_health(reporter: &HealthReporter, status: ServingStatus) {
    for service in HEALTH_SERVICES {
        reporter.set_service_status(service, status).await;
    }
}
