//! Call detail records (DESIGN §6): one per call attempt, answered or not, one JSON line each.
//!
//! The money fields reconcile exactly with the prepaid requests the call issued:
//! `reserved` = Σ grants (ApplyFee and Reapply), `charged` = Σ amounts deducted (Reapply `used`
//! and Deduct), `returned` = Σ amounts given back (the rest of each reservation a Reapply
//! replaced, and the final Return), so `reserved − charged = returned` once settled.

use serde::{Deserialize, Serialize};

use crate::prepaid::Money;

/// How the call was charged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargingMode {
    /// Not known (the call failed before the member was found).
    #[default]
    None,
    /// Postpaid: `rated` is for the billing system; nothing was reserved.
    Postpaid,
    /// Prepaid on `account`.
    Prepaid,
}

/// How the call attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered and ended normally.
    Answered,
    /// Callee busy.
    Busy,
    /// No answer.
    NoAnswer,
    /// Caller hung up before answer.
    Abandon,
    /// Route select failure.
    RouteFailure,
    /// Claim 2 failure.
    VpnAuthFailed,
    /// Claims 3–6 failure (account invalid, insufficient balance, no fee applied).
    PrepaidAuthFailed,
    /// Numbering or screening refusal.
    Screened,
    /// Released mid-call because credit ran out (by us, or by the SSP at the end of the last
    /// slice).
    ReleasedForCredit,
    /// The ledger was unavailable.
    LedgerUnavailable,
    /// No group serves the service key.
    UnknownServiceKey,
    /// The dialogue was aborted.
    Aborted,
    /// Our guard timer ended the call.
    Timeout,
}

/// A call detail record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cdr {
    /// Call id.
    pub call_id: u64,
    /// InitialDP received, ms since the Unix epoch.
    pub start_ms: u64,
    /// Answer, ms since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_ms: Option<u64>,
    /// End of the call attempt, ms since the Unix epoch.
    pub end_ms: u64,
    /// Service key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_key: Option<u32>,
    /// Calling number as received.
    pub calling: String,
    /// Dialled digits as received.
    pub dialled: String,
    /// Translated destination (E.164), when resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translated: Option<String>,
    /// VPN group id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// On-net (member to member).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_net: Option<bool>,
    /// Tariff destination class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dest_class: Option<String>,
    /// Charging mode.
    pub charging: ChargingMode,
    /// Prepaid account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Conversation time, 100 ms units (from ApplyChargingReport for prepaid, the wall clock
    /// for postpaid).
    pub answered_100ms: u64,
    /// Conversation time, whole seconds rounded up.
    pub answered_seconds: u64,
    /// The call's cost at its tariff (for postpaid billing; for prepaid, before any cap).
    pub rated: Money,
    /// Σ fees applied (granted).
    pub reserved: Money,
    /// Σ fees deducted.
    pub charged: Money,
    /// Σ fees returned.
    pub returned: Money,
    /// Outcome.
    pub outcome: Outcome,
    /// Release cause we sent, if we released.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_cause: Option<u8>,
    /// Detail of a refusal (screening reason, ledger refusal, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A prepaid request of the settlement failed for good; the ledger's reservation expiry
    /// completes it. `reserved − charged = returned` does not hold for this CDR.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub settlement_incomplete: bool,
    /// Prepaid requests issued.
    pub prepaid_requests: u32,
    /// Events ignored as unexpected.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub unexpected_events: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Cdr {
    /// One JSON line (no trailing newline).
    pub fn to_json_line(&self) -> String {
        // A struct of plain fields always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether the money fields add up (always for a completed settlement).
    pub fn reconciles(&self) -> bool {
        self.reserved.checked_sub(self.charged) == Some(self.returned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_line_round_trip() {
        let c = Cdr {
            call_id: 7,
            start_ms: 1,
            answer_ms: Some(2),
            end_ms: 3,
            service_key: Some(100),
            calling: "1".into(),
            dialled: "2".into(),
            translated: Some("3".into()),
            group: Some("g".into()),
            on_net: Some(false),
            dest_class: Some("national_fixed".into()),
            charging: ChargingMode::Prepaid,
            account: Some("A".into()),
            answered_100ms: 11,
            answered_seconds: 2,
            rated: 5,
            reserved: 10,
            charged: 5,
            returned: 5,
            outcome: Outcome::Answered,
            release_cause: Some(16),
            reason: None,
            settlement_incomplete: false,
            prepaid_requests: 4,
            unexpected_events: 0,
        };
        let line = c.to_json_line();
        assert!(!line.contains('\n'));
        assert!(line.contains("\"outcome\":\"answered\""));
        assert_eq!(serde_json::from_str::<Cdr>(&line).unwrap(), c);
        assert!(c.reconciles());
    }
}
