//! Service logic configuration: failure treatments, prepaid slices, PIN collection, the policy
//! for lost dialogues. Part of the server's TOML configuration (a `[service]` table); every
//! field has a documented default, so an empty table is a working configuration.
//!
//! Causes are ITU-T Q.850 cause values.

use serde::{Deserialize, Serialize};

/// Q.850 cause 16, normal call clearing.
pub const CAUSE_NORMAL_CLEARING: u8 = 16;
/// Q.850 cause 21, call rejected.
pub const CAUSE_CALL_REJECTED: u8 = 21;
/// Q.850 cause 31, normal, unspecified.
pub const CAUSE_NORMAL_UNSPECIFIED: u8 = 31;
/// Q.850 cause 41, temporary failure.
pub const CAUSE_TEMPORARY_FAILURE: u8 = 41;
/// Q.850 cause 53, outgoing calls barred within CUG.
pub const CAUSE_OUTGOING_BARRED_CUG: u8 = 53;
/// Q.850 cause 87, user not member of CUG.
pub const CAUSE_NOT_MEMBER_OF_CUG: u8 = 87;
/// Q.850 cause 102, recovery on timer expiry.
pub const CAUSE_TIMER_EXPIRY: u8 = 102;

/// How a refused call is treated: an optional announcement (ConnectToResource +
/// PlayAnnouncement, then ReleaseCall when the SRF reports completion), then ReleaseCall with
/// `cause`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Treatment {
    /// Announcement (message id in the SRF), or none to release at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announcement: Option<u32>,
    /// Q.850 release cause.
    pub cause: u8,
}

impl Treatment {
    const fn new(announcement: Option<u32>, cause: u8) -> Self {
        Treatment {
            announcement,
            cause,
        }
    }
}

/// What to do with a call whose service key no group uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownKeyAction {
    /// Let the switch route the call unchanged (Continue). Unscreened and uncharged by us.
    Continue,
    /// Apply the `unknown_service_key` treatment (fail closed). The default: a call we cannot
    /// place in a group could be a misprovisioned prepaid subscriber, and must not pass free.
    #[default]
    Release,
}

/// How the money of a call whose dialogue was lost (TC-ABORT, timeout) is settled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbortPolicy {
    /// Charge the time known from the last ApplyChargingReport plus the wall-clock time since
    /// (or since answer), capped at the current reservation; return the rest. The default: it
    /// charges for service probably given, never more than the caller authorised by the
    /// reservation, and pulling a link does not make calls free.
    #[default]
    ChargeKnown,
    /// Charge nothing more; return the whole reservation (subscriber-friendly, but link loss
    /// becomes free calls).
    ReturnAll,
    /// Charge the whole current reservation if the call was answered (operator-friendly,
    /// over-charges short calls).
    ChargeReservation,
}

/// The service logic's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig {
    /// Claim 2 failure: not a member, inactive, wrong PIN. Default: announcement 1, cause 87
    /// (user not member of CUG).
    pub vpn_auth_failure: Treatment,
    /// Claims 3–5 failure: account unknown, suspended, expired, balance below the first unit.
    /// Default: announcement 2, cause 31.
    pub prepaid_auth_failure: Treatment,
    /// Numbering / screening refusal. Default: announcement 3, cause 53 (outgoing calls
    /// barred within CUG).
    pub screened: Treatment,
    /// Unknown service key (with `unknown_service_key_action = "release"`). Default: no
    /// announcement, cause 31.
    pub unknown_service_key: Treatment,
    /// What to do on an unknown service key. Default: release.
    pub unknown_service_key_action: UnknownKeyAction,
    /// No fee could be applied (claim 6), or a re-application was refused mid-call. The
    /// announcement is played only before the call is connected (CAP cannot reach the caller
    /// of a connected call); mid-call it is ReleaseCall with the cause. Default: announcement 4,
    /// cause 31.
    pub credit_exhausted: Treatment,
    /// The ledger cannot make changes durable (fail closed). Default: announcement 5, cause 41.
    pub ledger_unavailable: Treatment,
    /// Release cause when our own guard timer ends a call. Default 102.
    pub timeout_cause: u8,
    /// Seconds of conversation each prepaid slice (ApplyFee / Reapply `want`) covers.
    /// Default 120.
    pub slice_seconds: u32,
    /// Ask for the warning tone in the last slice's ApplyCharging. Default true.
    pub warning_tone: bool,
    /// PIN attempts before VPN authentication fails. Default 3.
    pub pin_attempts: u32,
    /// Fewest PIN digits collected. Default 4.
    pub pin_min_digits: u8,
    /// Most PIN digits collected. Default 8.
    pub pin_max_digits: u8,
    /// Announcement that prompts for the PIN. Default 10.
    pub pin_prompt_announcement: u32,
    /// Announcement that prompts again after a wrong PIN. Default 11.
    pub pin_retry_announcement: u32,
    /// Settlement of lost dialogues. Default charge_known.
    pub abort_policy: AbortPolicy,
    /// After a disconnect, how long to wait for the final ApplyChargingReport before settling
    /// on the wall clock, milliseconds. Default 2000.
    pub final_report_wait_ms: u64,
    /// Slack after a prepaid period's end before a missing ApplyChargingReport counts as a lost
    /// dialogue, milliseconds. Default 10000.
    pub report_guard_ms: u64,
    /// Longest time with an announcement or PIN prompt outstanding, milliseconds.
    /// Default 120000.
    pub resource_timeout_ms: u64,
    /// Retries of a Deduct / Return refused with `LedgerUnavailable` (same idempotency key)
    /// before the reservation is left to the ledger's expiry. Default 2.
    pub settle_retries: u32,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            vpn_auth_failure: Treatment::new(Some(1), CAUSE_NOT_MEMBER_OF_CUG),
            prepaid_auth_failure: Treatment::new(Some(2), CAUSE_NORMAL_UNSPECIFIED),
            screened: Treatment::new(Some(3), CAUSE_OUTGOING_BARRED_CUG),
            unknown_service_key: Treatment::new(None, CAUSE_NORMAL_UNSPECIFIED),
            unknown_service_key_action: UnknownKeyAction::Release,
            credit_exhausted: Treatment::new(Some(4), CAUSE_NORMAL_UNSPECIFIED),
            ledger_unavailable: Treatment::new(Some(5), CAUSE_TEMPORARY_FAILURE),
            timeout_cause: CAUSE_TIMER_EXPIRY,
            slice_seconds: 120,
            warning_tone: true,
            pin_attempts: 3,
            pin_min_digits: 4,
            pin_max_digits: 8,
            pin_prompt_announcement: 10,
            pin_retry_announcement: 11,
            abort_policy: AbortPolicy::ChargeKnown,
            final_report_wait_ms: 2_000,
            report_guard_ms: 10_000,
            resource_timeout_ms: 120_000,
            settle_retries: 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_table_is_the_default_and_round_trips() {
        let c: ServiceConfig = toml::from_str("").unwrap();
        assert_eq!(c, ServiceConfig::default());
        let text = toml::to_string(&c).unwrap();
        assert_eq!(toml::from_str::<ServiceConfig>(&text).unwrap(), c);
        let c: ServiceConfig = toml::from_str(
            "abort_policy = \"return_all\"\nslice_seconds = 30\n[screened]\ncause = 21\n",
        )
        .unwrap();
        assert_eq!(c.abort_policy, AbortPolicy::ReturnAll);
        assert_eq!(c.screened, Treatment::new(None, 21));
    }
}
