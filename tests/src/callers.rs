//! Callers of a real server for the tests of the read policy, signed requests and rate limits:
//! a server whose log holds a small circuit, channels signed as each participant or from
//! another loopback address, and `PartyEvents` requests signed right or wrong.

use std::time::{SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use isnad_client::SignedChannel;
use isnad_core::envelope::request::{RequestClaim, request_digest, sign_request};
use isnad_core::event::{Item, Payload, UnitId};
use isnad_core::gs1::Gln;
use isnad_proto::contract::REASON_METADATA_KEY;
use isnad_proto::pb;
use isnad_testkit::{Actor, Scenario, Who, sscc_number};
use prost::Message;
use tonic::Code;
use tonic::transport::Channel;

use crate::server::{DataDir, ORIGIN, Server, mirror, scenario_keys};

/// A server whose log holds the scenario: every participant and an auditor admitted, lot `L1`
/// of three units commissioned, `S1` shipped to the distributor, `S2` packed in an SSCC.
#[derive(Debug)]
pub struct World {
    /// The data directory, removed when dropped.
    pub data: DataDir,
    /// The server.
    pub server: Server,
    /// The scenario its log mirrors.
    pub scenario: Scenario,
    /// The admitted auditor.
    pub auditor: Actor,
    /// The units of lot `L1`.
    pub units: Vec<UnitId>,
}

/// [`world_with_args`] with the server's default options.
pub async fn world() -> World {
    world_with_args(&[]).await
}

/// Starts a server with `args` and mirrors the circuit of [`World`] onto it (as the regulator
/// and the manufacturer, one capture request per event).
pub async fn world_with_args(args: &[&str]) -> World {
    let data = DataDir::init();
    let server = Server::start_with_args(&data.path(), args);
    let mut scenario = Scenario::today();
    let auditor = isnad_testkit::auditor();
    scenario.accept(Who::Regulator, Payload::AdmitParticipant(auditor.admit()));
    let units = scenario.commission("L1", &["S1", "S2", "S3"]);
    scenario.ship(
        Who::Manufacturer,
        vec![Item::Unit(units[0].clone())],
        Who::Distributor,
    );
    scenario.aggregate(
        Who::Manufacturer,
        sscc_number(1),
        vec![Item::Unit(units[1].clone())],
    );
    mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
    World {
        data,
        server,
        scenario,
        auditor,
        units,
    }
}

/// The callers of the policy table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum As {
    /// No signed request.
    Anonymous,
    /// The genesis regulator.
    Regulator,
    /// The admitted auditor.
    Auditor,
    /// The scenario's manufacturer, which made lot `L1`.
    Manufacturer,
    /// The scenario's distributor, to which `S1` was shipped.
    Distributor,
    /// The scenario's inspector.
    Inspector,
}

impl World {
    /// A channel to the server whose calls are signed as `caller` (none for anonymous).
    pub async fn channel(&self, caller: As) -> SignedChannel {
        let actor = match caller {
            As::Anonymous => {
                return SignedChannel::new(self.server.anonymous_channel().await, None);
            }
            As::Regulator => self.scenario.actor(Who::Regulator),
            As::Auditor => &self.auditor,
            As::Manufacturer => self.scenario.actor(Who::Manufacturer),
            As::Distributor => self.scenario.actor(Who::Distributor),
            As::Inspector => self.scenario.actor(Who::Inspector),
        };
        self.server
            .channel_as(actor.party, &actor.signing_key)
            .await
    }

    /// A participant's party GLN.
    pub fn party(&self, who: Who) -> Gln {
        self.scenario.actor(who).party
    }
}

/// Checks a refusal's status code and `isnad-reason`.
#[track_caller]
pub fn check_status(status: &tonic::Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(
        status
            .metadata()
            .get(REASON_METADATA_KEY)
            .and_then(|v| v.to_str().ok()),
        Some(reason),
        "{status:?}"
    );
}

/// The system clock in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

/// The method every forged request below is sent to.
pub const PARTY_EVENTS: &str = "/isnad.v1.Verification/PartyEvents";

/// How a forged request departs from a good one.
#[derive(Debug, Clone)]
pub struct Signing {
    /// The party named.
    pub party: Gln,
    /// The key that signs.
    pub key: SigningKey,
    /// The time named, milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// The log the signature is for.
    pub origin: String,
    /// The method the signature covers.
    pub method: String,
    /// The message the signature covers (the one sent is the manufacturer's PartyEvents).
    pub signed_message: pb::PartyEventsRequest,
}

/// A `PartyEvents` request for the manufacturer's events with the caller metadata of `signing`.
pub fn signed_request(w: &World, signing: &Signing) -> tonic::Request<pb::PartyEventsRequest> {
    let sent = manufacturer_events(w);
    let digest = request_digest(&signing.signed_message.encode_to_vec());
    let (party, time) = (signing.party.to_string(), signing.time_ms.to_string());
    let claim = RequestClaim {
        method: &signing.method,
        party: &party,
        time: &time,
        digest: &digest,
    };
    let signature = sign_request(&signing.key, &signing.origin, &claim);
    let mut request = tonic::Request::new(sent);
    let metadata = request.metadata_mut();
    let ascii = |text: String| text.parse().expect("ASCII");
    metadata.insert("isnad-caller-party", ascii(party));
    metadata.insert(
        "isnad-caller-key",
        ascii(hex::encode(signing.key.verifying_key().to_bytes())),
    );
    metadata.insert("isnad-caller-time", ascii(time));
    metadata.insert("isnad-caller-signature", ascii(hex::encode(signature)));
    request
}

/// The manufacturer's `PartyEvents` of its own events.
pub fn manufacturer_events(w: &World) -> pb::PartyEventsRequest {
    pb::PartyEventsRequest {
        party: w.party(Who::Manufacturer).to_string(),
        ..Default::default()
    }
}

/// The manufacturer's good signature over its own `PartyEvents`, now.
pub fn good(w: &World) -> Signing {
    let manufacturer = w.scenario.actor(Who::Manufacturer);
    Signing {
        party: manufacturer.party,
        key: manufacturer.signing_key.clone(),
        time_ms: now_ms(),
        origin: ORIGIN.to_owned(),
        method: PARTY_EVENTS.to_owned(),
        signed_message: manufacturer_events(w),
    }
}

/// Sends a `PartyEvents` request over `channel`: `Ok`, or the refusal.
pub async fn send(
    channel: &Channel,
    request: tonic::Request<pb::PartyEventsRequest>,
) -> Result<(), tonic::Status> {
    pb::verification_client::VerificationClient::new(channel.clone())
        .party_events(request)
        .await
        .map(|_| ())
}

/// A channel to `server` from the loopback address `source` (127.0.0.2, say): another caller
/// address on the same machine.
pub async fn channel_from(server: &Server, source: std::net::IpAddr) -> Channel {
    let target = server.address;
    let connector = tower::service_fn(move |_: tonic::codegen::http::Uri| async move {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(std::net::SocketAddr::new(source, 0))?;
        let stream = socket.connect(target).await?;
        Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
    });
    tonic::transport::Endpoint::from_shared(server.url())
        .expect("valid URL")
        .connect_with_connector(connector)
        .await
        .expect("connects from another loopback address")
}
