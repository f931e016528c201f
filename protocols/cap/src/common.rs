//! Data types shared by several operations (TS 29.078 §5.1 CAP-datatypes; ETS 300 374-1
//! §6.1 Core-INAP-CS1-DataTypes): leg identifiers, BCSM event types, monitor modes,
//! MiscCallInfo.

use std::fmt;

use bytes::BytesMut;
use strowger_ber::{write_constructed, write_tlv, Tag, Tlv};

use crate::error::{CapError, CapResult};
use crate::util::{ctx, explicit, octet1};

/// `LegType ::= OCTET STRING (SIZE(1))`, `leg1 '01'H`, `leg2 '02'H`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LegType(pub u8);

impl LegType {
    /// The calling party's leg.
    pub const LEG1: LegType = LegType(1);
    /// The called party's leg.
    pub const LEG2: LegType = LegType(2);
}

impl fmt::Debug for LegType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "leg{}", self.0)
    }
}

/// `LegID ::= CHOICE { sendingSideID [0] LegType, receivingSideID [1] LegType }`.
/// `SendingSideID` and `ReceivingSideID` are the one-alternative CHOICEs of the same form.
/// Every use is a tagged CHOICE, hence EXPLICIT: `[n] { [0|1] leg }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LegId {
    /// `sendingSideID [0]` (gsmSCF → gsmSSF direction).
    Sending(LegType),
    /// `receivingSideID [1]` (gsmSSF → gsmSCF direction).
    Receiving(LegType),
}

impl LegId {
    /// The leg, whichever side named it.
    pub fn leg(self) -> LegType {
        match self {
            LegId::Sending(l) | LegId::Receiving(l) => l,
        }
    }

    /// Decode from the explicitly tagged wrapper `t` (`[n] { … }`).
    pub(crate) fn decode(t: Tlv<'_>, what: &'static str) -> CapResult<Self> {
        let inner = explicit(t, what)?;
        match ctx(&inner) {
            Some(0) => Ok(LegId::Sending(LegType(octet1(inner, what)?))),
            Some(1) => Ok(LegId::Receiving(LegType(octet1(inner, what)?))),
            _ => Err(CapError::UnexpectedDataValue(what)),
        }
    }

    /// Encode as `[n] { [0|1] leg }`.
    pub(crate) fn encode(self, n: u32, buf: &mut BytesMut) {
        write_constructed(buf, Tag::ctx_cons(n), |b| match self {
            LegId::Sending(l) => write_tlv(b, Tag::ctx(0), &[l.0]),
            LegId::Receiving(l) => write_tlv(b, Tag::ctx(1), &[l.0]),
        });
    }
}

macro_rules! open_enum {
    ($(#[$m:meta])* $name:ident { $($c:ident = $v:expr, $s:expr;)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl $name {
            $(
                #[doc = concat!("`", $s, "` (", stringify!($v), ")")]
                pub const $c: $name = $name($v);
            )*

            /// The ASN.1 name of the value, if known.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($v => Some($s),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(n) => write!(f, "{n}({})", self.0),
                    None => write!(f, "{}({})", stringify!($name), self.0),
                }
            }
        }
    };
}
pub(crate) use open_enum;

open_enum! {
    /// `EventTypeBCSM` (CAP ENUMERATED; INAP CS-1 uses the same numbering, adding
    /// origAttemptAuthorized(1)). Unknown values are kept: TS 29.078 says an unrecognised
    /// value is treated like no detection point, which is the service logic's decision.
    EventTypeBcsm {
        ORIG_ATTEMPT_AUTHORIZED = 1, "origAttemptAuthorized";
        COLLECTED_INFO = 2, "collectedInfo";
        ANALYZED_INFORMATION = 3, "analyzedInformation";
        ROUTE_SELECT_FAILURE = 4, "routeSelectFailure";
        O_CALLED_PARTY_BUSY = 5, "oCalledPartyBusy";
        O_NO_ANSWER = 6, "oNoAnswer";
        O_ANSWER = 7, "oAnswer";
        O_MID_CALL = 8, "oMidCall";
        O_DISCONNECT = 9, "oDisconnect";
        O_ABANDON = 10, "oAbandon";
        TERM_ATTEMPT_AUTHORIZED = 12, "termAttemptAuthorized";
        T_BUSY = 13, "tBusy";
        T_NO_ANSWER = 14, "tNoAnswer";
        T_ANSWER = 15, "tAnswer";
        T_MID_CALL = 16, "tMidCall";
        T_DISCONNECT = 17, "tDisconnect";
        T_ABANDON = 18, "tAbandon";
        O_TERM_SEIZED = 19, "oTermSeized";
        CALL_ACCEPTED = 27, "callAccepted";
        O_CHANGE_OF_POSITION = 50, "oChangeOfPosition";
        T_CHANGE_OF_POSITION = 51, "tChangeOfPosition";
        O_SERVICE_CHANGE = 52, "oServiceChange";
        T_SERVICE_CHANGE = 53, "tServiceChange";
    }
}

open_enum! {
    /// `MonitorMode ::= ENUMERATED { interrupted(0), notifyAndContinue(1), transparent(2) }`.
    MonitorMode {
        INTERRUPTED = 0, "interrupted";
        NOTIFY_AND_CONTINUE = 1, "notifyAndContinue";
        TRANSPARENT = 2, "transparent";
    }
}

/// `MiscCallInfo ::= SEQUENCE { messageType [0] ENUMERATED { request(0), notification(1) },
/// dpAssignment [1] … OPTIONAL }` (CS2-datatypes / Core INAP). Only messageType is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum MessageType {
    /// `request(0)`: the gsmSSF is suspended and awaits instructions (interrupted EDP).
    #[default]
    Request,
    /// `notification(1)`: the gsmSSF continues (notify-and-continue EDP).
    Notification,
}

impl MessageType {
    pub(crate) fn decode(t: Tlv<'_>) -> CapResult<Self> {
        const W: &str = "miscCallInfo";
        let mut r = crate::util::reader(t, W)?;
        let mt = r
            .expect(Tag::ctx(0), "messageType")
            .map_err(crate::error::ber(W))?;
        let v = crate::util::int(mt, W)?;
        r.skip_rest().map_err(crate::error::ber(W))?;
        match v {
            0 => Ok(MessageType::Request),
            1 => Ok(MessageType::Notification),
            _ => Err(CapError::UnexpectedDataValue("messageType")),
        }
    }

    pub(crate) fn encode(self, n: u32, buf: &mut BytesMut) {
        write_constructed(buf, Tag::ctx_cons(n), |b| {
            strowger_ber::write_enumerated(b, Tag::ctx(0), self as i64)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leg_id_explicit() {
        let mut b = BytesMut::new();
        LegId::Sending(LegType::LEG2).encode(2, &mut b);
        assert_eq!(&b[..], &[0xa2, 0x03, 0x80, 0x01, 0x02]);
        let t = crate::util::single(&b, "x").unwrap();
        assert_eq!(
            LegId::decode(t, "x").unwrap(),
            LegId::Sending(LegType::LEG2)
        );
        assert_eq!(format!("{:?}", EventTypeBcsm::O_ANSWER), "oAnswer(7)");
        assert_eq!(format!("{:?}", EventTypeBcsm(99)), "EventTypeBcsm(99)");
    }
}
