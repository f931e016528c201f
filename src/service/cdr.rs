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

impl ChargingMode {
    /// The name in CDRs (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            ChargingMode::None => "none",
            ChargingMode::Postpaid => "postpaid",
            ChargingMode::Prepaid => "prepaid",
        }
    }
}

impl Outcome {
    /// The name in CDRs and in the `outcome` label of `strowger_calls_total` (as serde
    /// writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Busy => "busy",
            Outcome::NoAnswer => "no_answer",
            Outcome::Abandon => "abandon",
            Outcome::RouteFailure => "route_failure",
            Outcome::VpnAuthFailed => "vpn_auth_failed",
            Outcome::PrepaidAuthFailed => "prepaid_auth_failed",
            Outcome::Screened => "screened",
            Outcome::ReleasedForCredit => "released_for_credit",
            Outcome::LedgerUnavailable => "ledger_unavailable",
            Outcome::UnknownServiceKey => "unknown_service_key",
            Outcome::Aborted => "aborted",
            Outcome::Timeout => "timeout",
        }
    }
}

impl Cdr {
    /// One JSON line (no trailing newline).
    pub fn to_json_line(&self) -> String {
        let mut out = Vec::with_capacity(512);
        self.write_json(&mut out);
        // Only UTF-8 goes in: literals, digits and escaped UTF-8 strings.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Append the record as JSON, without a newline: the text serde_json writes for it (a
    /// test holds the two equal), written directly, with the keys as literals. The CDR
    /// writer does this for every call; through serde it took about 6 500 instructions a
    /// call, most of them escaping the keys.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = JsonObject::open(out);
        o.int("call_id", self.call_id);
        o.int("start_ms", self.start_ms);
        if let Some(v) = self.answer_ms {
            o.int("answer_ms", v);
        }
        o.int("end_ms", self.end_ms);
        if let Some(v) = self.service_key {
            o.int("service_key", v);
        }
        o.str("calling", &self.calling);
        o.str("dialled", &self.dialled);
        if let Some(v) = &self.translated {
            o.str("translated", v);
        }
        if let Some(v) = &self.group {
            o.str("group", v);
        }
        if let Some(v) = self.on_net {
            o.bool("on_net", v);
        }
        if let Some(v) = &self.dest_class {
            o.str("dest_class", v);
        }
        o.str("charging", self.charging.as_str());
        if let Some(v) = &self.account {
            o.str("account", v);
        }
        o.int("answered_100ms", self.answered_100ms);
        o.int("answered_seconds", self.answered_seconds);
        o.int("rated", self.rated);
        o.int("reserved", self.reserved);
        o.int("charged", self.charged);
        o.int("returned", self.returned);
        o.str("outcome", self.outcome.as_str());
        if let Some(v) = self.release_cause {
            o.int("release_cause", v);
        }
        if let Some(v) = &self.reason {
            o.str("reason", v);
        }
        if self.settlement_incomplete {
            o.bool("settlement_incomplete", true);
        }
        o.int("prepaid_requests", self.prepaid_requests);
        if self.unexpected_events != 0 {
            o.int("unexpected_events", self.unexpected_events);
        }
        o.close();
    }

    /// Whether the money fields add up (always for a completed settlement).
    pub fn reconciles(&self) -> bool {
        self.reserved.checked_sub(self.charged) == Some(self.returned)
    }
}

/// A JSON object being written: `{`, then `"key":value` pairs with commas, then `}`.
struct JsonObject<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> JsonObject<'a> {
    fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        JsonObject { out, first: true }
    }

    /// `key` is a literal that needs no escaping.
    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn int(&mut self, key: &str, v: impl itoa::Integer) {
        self.key(key);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    fn bool(&mut self, key: &str, v: bool) {
        self.key(key);
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
    }

    fn str(&mut self, key: &str, v: &str) {
        self.key(key);
        if v.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
            // Rare (numbers, ids and names are plain): serde_json's escaping, exactly.
            let _ = serde_json::to_writer(&mut *self.out, v);
        } else {
            self.out.push(b'"');
            self.out.extend_from_slice(v.as_bytes());
            self.out.push(b'"');
        }
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    fn opt_str() -> impl Strategy<Value = Option<String>> {
        // Plain text, and text that needs escaping: quotes, backslashes, controls, non-ASCII.
        prop::option::of(prop_oneof!["[0-9A-Za-z_-]{0,12}", any::<String>()])
    }

    prop_compose! {
        fn arb_cdr()(
            (call_id, start_ms, answer_ms, end_ms, service_key) in
                (any::<u64>(), any::<u64>(), any::<Option<u64>>(), any::<u64>(), any::<Option<u32>>()),
            (calling, dialled, translated, group, dest_class, account, reason) in
                (any::<String>(), "[0-9#*]{0,20}", opt_str(), opt_str(), opt_str(), opt_str(), opt_str()),
            (on_net, charging, outcome) in (any::<Option<bool>>(), 0..3usize, 0..13usize),
            (answered_100ms, answered_seconds, rated, reserved, charged, returned) in
                (any::<u64>(), any::<u64>(), any::<i64>(), any::<i64>(), any::<i64>(), any::<i64>()),
            (release_cause, settlement_incomplete, prepaid_requests, unexpected_events) in
                (any::<Option<u8>>(), any::<bool>(), any::<u32>(), prop_oneof![Just(0u32), any::<u32>()]),
        ) -> Cdr {
            use Outcome::*;
            let outcomes = [
                Answered, Busy, NoAnswer, Abandon, RouteFailure, VpnAuthFailed, PrepaidAuthFailed,
                Screened, ReleasedForCredit, LedgerUnavailable, UnknownServiceKey, Aborted, Timeout,
            ];
            let modes = [ChargingMode::None, ChargingMode::Postpaid, ChargingMode::Prepaid];
            Cdr {
                call_id, start_ms, answer_ms, end_ms, service_key, calling, dialled, translated,
                group, on_net, dest_class, charging: modes[charging], account, answered_100ms,
                answered_seconds, rated, reserved, charged, returned, outcome: outcomes[outcome],
                release_cause, reason, settlement_incomplete, prepaid_requests, unexpected_events,
            }
        }
    }

    proptest! {
        /// The hand-written JSON is serde's, byte for byte, and reads back as the same record.
        #[test]
        fn written_json_is_serdes(c in arb_cdr()) {
            let line = c.to_json_line();
            prop_assert_eq!(&line, &serde_json::to_string(&c).unwrap());
            prop_assert_eq!(serde_json::from_str::<Cdr>(&line).unwrap(), c);
        }
    }
}
