//! The SCP's configuration: one TOML file, every field with a documented default, so
//! `strowger serve` with no file runs on loopback. `strowger config example` prints
//! [`EXAMPLE`], a complete commented file that parses to exactly [`Config::default`].

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A complete, commented configuration file; it equals the built-in defaults.
pub const EXAMPLE: &str = include_str!("config_example.toml");

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid configuration in {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause, with line and column.
        source: toml::de::Error,
    },
    /// A value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The whole configuration.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// This node.
    pub node: NodeConfig,
    /// M3UA links.
    pub m3ua: M3uaConfig,
    /// SCCP addressing.
    pub sccp: SccpConfig,
    /// Which SSPs may connect.
    pub peers: PeersConfig,
    /// TCAP timers.
    pub tcap: TcapConfig,
    /// Actors, admission control and shutdown.
    pub engine: EngineConfig,
    /// Admin HTTP API and metrics.
    pub admin: AdminConfig,
    /// Call detail records.
    pub cdr: CdrConfig,
    /// Logging.
    pub log: LogConfig,
    /// Service key → service table.
    pub services: ServicesConfig,
    /// The VPN/prepaid service logic: treatments, slices, PIN, abort policy.
    pub service: crate::service::ServiceConfig,
    /// The embedded durable ledger.
    pub ledger: crate::ledger::LedgerConfig,
}

/// Identity of this SCP node.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Node id, 0–65535, unique among SCPs sharing one ledger; it prefixes every call id.
    pub id: u16,
    /// Directory for the ledger, provisioning state and CDRs.
    pub data_dir: PathBuf,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            id: 1,
            data_dir: PathBuf::from("data"),
        }
    }
}

/// Transport under M3UA.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// TCP, one connection per link; M3UA messages self-delimit by their length field.
    Tcp,
    /// Kernel SCTP (one-to-one style), where the kernel has it.
    Sctp,
}

/// Which M3UA side this SCP plays towards the SSPs.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Signalling gateway side: the SSP is the ASP and sends ASP Up / ASP Active.
    Sg,
    /// IP server process in a point-to-point IPSP association (the peer initiates).
    Ipsp,
    /// Application server process: this SCP sends ASP Up / Active to the peer.
    Asp,
}

/// M3UA link settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct M3uaConfig {
    /// Addresses to listen on for SSP links.
    pub listen: Vec<SocketAddr>,
    /// `tcp` or `sctp`.
    pub transport: Transport,
    /// This SCP's M3UA role.
    pub role: Role,
    /// Routing contexts served; an ASP Active naming another is refused with ERR
    /// "invalid routing context".
    pub routing_contexts: Vec<u32>,
    /// Network appearance, if the network uses one.
    pub network_appearance: Option<u32>,
    /// Largest M3UA message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Send BEAT every this many seconds when the link is idle (0: never).
    pub heartbeat_seconds: u64,
}

impl Default for M3uaConfig {
    fn default() -> Self {
        M3uaConfig {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 2905))],
            transport: Transport::Tcp,
            role: Role::Sg,
            routing_contexts: vec![1],
            network_appearance: None,
            max_message_bytes: 65_536,
            heartbeat_seconds: 0,
        }
    }
}

/// SCCP addressing of this SCP.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SccpConfig {
    /// Own signalling point code (ITU 14-bit).
    pub point_code: u32,
    /// Subsystem numbers served: CAP (146) and INAP (241) by common use.
    pub ssns: Vec<u8>,
    /// Own global title digits (E.164), used as calling GT in replies when the request was
    /// routed on GT.
    pub global_title: String,
    /// SCCP hop counter for XUDT replies.
    pub hop_counter: u8,
}

impl Default for SccpConfig {
    fn default() -> Self {
        SccpConfig {
            point_code: 2,
            ssns: vec![146, 241],
            global_title: "491700000001".into(),
            hop_counter: 15,
        }
    }
}

/// Which peers may connect. Empty lists allow everyone (loopback default).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PeersConfig {
    /// Source IP addresses allowed to open links; others are refused and logged.
    pub allowed_ips: Vec<IpAddr>,
    /// Originating point codes allowed in M3UA DATA; others are dropped with a log line and
    /// a counter (and UDTS where the return option asks).
    pub allowed_point_codes: Vec<u32>,
}

/// TCAP timers.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TcapConfig {
    /// A dialogue with no message for this long is ended (its call settled by the abort
    /// policy). Must exceed the longest charging slice.
    pub idle_timeout_seconds: u64,
    /// An invoke with no answer for this long times out (e.g. PromptAndCollect).
    pub invoke_timeout_seconds: u64,
}

impl Default for TcapConfig {
    fn default() -> Self {
        TcapConfig {
            idle_timeout_seconds: 600,
            invoke_timeout_seconds: 60,
        }
    }
}

/// What the SCP answers when it will not serve a call.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "action", rename_all = "lowercase", deny_unknown_fields)]
pub enum Treatment {
    /// Let the switch continue with its own default handling (TC-END with Continue).
    Continue,
    /// Release the call with this Q.850 cause (TC-END with ReleaseCall).
    Release {
        /// Q.850 cause value.
        cause: u8,
    },
}

/// Actors, admission control and shutdown.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Number of actix arbiters for call actors (0: one per CPU core less one, at least one).
    pub arbiters: usize,
    /// Most dialogues alive at once; above this new InitialDPs get the overload treatment.
    pub max_dialogues: usize,
    /// Mailbox capacity of each call and account actor.
    pub mailbox: usize,
    /// Treatment for InitialDPs refused by admission control.
    pub overload_treatment: Treatment,
    /// CallGap sent with refusals: gap interval and duration in seconds.
    pub call_gap_interval_ms: u32,
    /// How long a CallGap applies at the SSP.
    pub call_gap_duration_seconds: u32,
    /// On SIGTERM, how long live calls may run before they are released.
    pub drain_seconds: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            arbiters: 0,
            max_dialogues: 200_000,
            mailbox: 64,
            overload_treatment: Treatment::Release { cause: 42 },
            call_gap_interval_ms: 1_000,
            call_gap_duration_seconds: 5,
            drain_seconds: 30,
        }
    }
}

/// Arbiters when `engine.arbiters` is 0: one per CPU core, less one for the ledger writer and
/// the kernel's disk and network work (at least one). On 2 cores one arbiter carries more calls
/// at lower latency than two: a call and its account actor never wait for another thread,
/// whose queue tokio serves only every 31st task while local ones are ready.
pub fn default_arbiters() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1))
        .unwrap_or(1)
        .max(1)
}

/// An arbiter count as configured: 0 means [`default_arbiters`].
pub fn arbiters_or_default(configured: usize) -> usize {
    if configured == 0 {
        default_arbiters()
    } else {
        configured
    }
}

/// Admin HTTP API.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// Listen address for the admin API and `/metrics`.
    pub listen: SocketAddr,
    /// Bearer token required for every change; empty means changes are refused.
    pub token: String,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token: "change-me".into(),
        }
    }
}

/// Call detail records.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CdrConfig {
    /// Write CDRs at all.
    pub enabled: bool,
    /// Rotate the CDR file when it reaches this size.
    pub rotate_bytes: u64,
}

impl Default for CdrConfig {
    fn default() -> Self {
        CdrConfig {
            enabled: true,
            rotate_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Log output format.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

/// Logging.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `human` or `json`.
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `strowger=debug`; `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Human,
            level: "info".into(),
        }
    }
}

/// The service a service key selects.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    /// VPN with built-in prepaid charging (claims 1–8).
    Vpn,
}

/// One row of the service-key table.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceKeyEntry {
    /// The InitialDP serviceKey.
    pub key: u32,
    /// The service run for it.
    pub service: ServiceKind,
}

/// Service key → service table.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServicesConfig {
    /// Known service keys.
    pub keys: Vec<ServiceKeyEntry>,
    /// What an InitialDP with a service key not in the table gets.
    pub unknown_key_treatment: Treatment,
    /// The provisioning file (groups, members, accounts, tariffs) loaded at first start;
    /// afterwards the persisted copy in the data directory is authoritative.
    pub provisioning: PathBuf,
}

impl Default for ServicesConfig {
    fn default() -> Self {
        ServicesConfig {
            keys: vec![
                ServiceKeyEntry {
                    key: 100,
                    service: ServiceKind::Vpn,
                },
                ServiceKeyEntry {
                    key: 101,
                    service: ServiceKind::Vpn,
                },
            ],
            unknown_key_treatment: Treatment::Release { cause: 31 },
            provisioning: PathBuf::from("examples/provisioning.toml"),
        }
    }
}

impl Config {
    /// Load and validate a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        let cfg: Config = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Check ranges and consistency.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |s: &str| Err(ConfigError::Invalid(s.to_owned()));
        if self.m3ua.listen.is_empty() {
            return bad("m3ua.listen needs at least one address");
        }
        if self.sccp.point_code > 0x3fff {
            return bad("sccp.point_code must be a 14-bit ITU point code (0..=16383)");
        }
        if self.sccp.ssns.is_empty() {
            return bad("sccp.ssns needs at least one subsystem number");
        }
        if !self.sccp.global_title.bytes().all(|b| b.is_ascii_digit()) {
            return bad("sccp.global_title must be decimal digits");
        }
        if self.m3ua.max_message_bytes < 64 {
            return bad("m3ua.max_message_bytes is too small");
        }
        if self.engine.max_dialogues == 0 || self.engine.mailbox == 0 {
            return bad("engine.max_dialogues and engine.mailbox must be positive");
        }
        if self.tcap.idle_timeout_seconds == 0 {
            return bad("tcap.idle_timeout_seconds must be positive");
        }
        Ok(())
    }

    /// The number of call arbiters to start.
    pub fn arbiters(&self) -> usize {
        arbiters_or_default(self.engine.arbiters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_equals_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(parsed, Config::default());
        parsed.validate().unwrap();
    }

    #[test]
    fn unknown_fields_are_errors() {
        assert!(toml::from_str::<Config>("[m3ua]\nlisten_on = []\n").is_err());
    }

    #[test]
    fn empty_file_is_defaults() {
        assert_eq!(toml::from_str::<Config>("").unwrap(), Config::default());
    }
}
