//! ITU-T Q.850 cause, coded as the Q.763 §3.12 Cause indicators parameter (CAP `Cause`:
//! ReleaseCall, busyCause, releaseCause, failureCause).
//!
//! ```text
//! octet 1   8 ext | 7-6 coding standard | 5 spare | 4-1 location
//! octet 1a  8 ext | 7-1 recommendation         (only when octet 1's ext bit is 0)
//! octet 2   8 ext (1) | 7-1 cause value
//! octet 3+  diagnostics
//! ```

use std::fmt;

use super::NumberBuf;
use crate::error::{CapError, CapResult};

/// Q.850 location (4 bits).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CauseLocation(pub u8);

impl CauseLocation {
    /// U: user.
    pub const USER: CauseLocation = CauseLocation(0);
    /// LPN: private network serving the local user.
    pub const PRIVATE_LOCAL: CauseLocation = CauseLocation(1);
    /// LN: public network serving the local user.
    pub const PUBLIC_LOCAL: CauseLocation = CauseLocation(2);
    /// TN: transit network.
    pub const TRANSIT: CauseLocation = CauseLocation(3);
    /// RLN: public network serving the remote user.
    pub const PUBLIC_REMOTE: CauseLocation = CauseLocation(4);
    /// RPN: private network serving the remote user.
    pub const PRIVATE_REMOTE: CauseLocation = CauseLocation(5);
    /// INTL: international network.
    pub const INTERNATIONAL: CauseLocation = CauseLocation(7);
    /// BI: network beyond interworking point.
    pub const BEYOND_INTERWORKING: CauseLocation = CauseLocation(10);
}

impl fmt::Debug for CauseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CauseLocation({})", self.0)
    }
}

macro_rules! causes {
    ($($c:ident = $v:expr, $s:expr;)*) => {
        /// Q.850 cause value (7 bits), an open set.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct CauseValue(pub u8);
        impl CauseValue {
            $(
                #[doc = $s]
                pub const $c: CauseValue = CauseValue($v);
            )*
            /// The Q.850 name, if known.
            pub fn name(self) -> Option<&'static str> {
                match self.0 { $($v => Some($s),)* _ => None }
            }
        }
    };
}

causes! {
    UNALLOCATED_NUMBER = 1, "unallocated (unassigned) number";
    NO_ROUTE_TO_NETWORK = 2, "no route to specified transit network";
    NO_ROUTE_TO_DESTINATION = 3, "no route to destination";
    NORMAL_CALL_CLEARING = 16, "normal call clearing";
    USER_BUSY = 17, "user busy";
    NO_USER_RESPONDING = 18, "no user responding";
    NO_ANSWER = 19, "no answer from user (user alerted)";
    SUBSCRIBER_ABSENT = 20, "subscriber absent";
    CALL_REJECTED = 21, "call rejected";
    NUMBER_CHANGED = 22, "number changed";
    DESTINATION_OUT_OF_ORDER = 27, "destination out of order";
    INVALID_NUMBER_FORMAT = 28, "invalid number format (address incomplete)";
    FACILITY_REJECTED = 29, "facility rejected";
    NORMAL_UNSPECIFIED = 31, "normal, unspecified";
    NO_CIRCUIT_AVAILABLE = 34, "no circuit/channel available";
    NETWORK_OUT_OF_ORDER = 38, "network out of order";
    TEMPORARY_FAILURE = 41, "temporary failure";
    SWITCHING_EQUIPMENT_CONGESTION = 42, "switching equipment congestion";
    REQUESTED_CHANNEL_NOT_AVAILABLE = 44, "requested circuit/channel not available";
    RESOURCE_UNAVAILABLE = 47, "resource unavailable, unspecified";
    FACILITY_NOT_SUBSCRIBED = 50, "requested facility not subscribed";
    OUTGOING_CALLS_BARRED_CUG = 53, "outgoing calls barred within CUG";
    INCOMING_CALLS_BARRED_CUG = 55, "incoming calls barred within CUG";
    BEARER_CAPABILITY_NOT_AUTHORIZED = 57, "bearer capability not authorized";
    BEARER_CAPABILITY_NOT_AVAILABLE = 58, "bearer capability not presently available";
    SERVICE_NOT_AVAILABLE = 63, "service or option not available, unspecified";
    BEARER_CAPABILITY_NOT_IMPLEMENTED = 65, "bearer capability not implemented";
    FACILITY_NOT_IMPLEMENTED = 69, "requested facility not implemented";
    SERVICE_NOT_IMPLEMENTED = 79, "service or option not implemented, unspecified";
    USER_NOT_MEMBER_OF_CUG = 87, "user not member of CUG";
    INCOMPATIBLE_DESTINATION = 88, "incompatible destination";
    INVALID_TRANSIT_NETWORK = 91, "invalid transit network selection";
    INVALID_MESSAGE = 95, "invalid message, unspecified";
    MANDATORY_IE_MISSING = 96, "mandatory information element is missing";
    RECOVERY_ON_TIMER_EXPIRY = 102, "recovery on timer expiry";
    PROTOCOL_ERROR = 111, "protocol error, unspecified";
    INTERWORKING = 127, "interworking, unspecified";
}

impl fmt::Debug for CauseValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{}({n})", self.0),
            None => write!(f, "CauseValue({})", self.0),
        }
    }
}

/// A Q.850 cause; diagnostics are borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cause<'a> {
    /// Coding standard (2 bits): 0 ITU-T, 1 ISO/IEC, 2 national, 3 network specific.
    pub coding_standard: u8,
    /// Location.
    pub location: CauseLocation,
    /// Recommendation (octet 1a), when present.
    pub recommendation: Option<u8>,
    /// The cause value.
    pub value: CauseValue,
    /// Diagnostics octets, possibly empty.
    pub diagnostics: &'a [u8],
}

impl Cause<'static> {
    /// An ITU-T coded cause without diagnostics.
    pub const fn new(location: CauseLocation, value: CauseValue) -> Self {
        Cause {
            coding_standard: 0,
            location,
            recommendation: None,
            value,
            diagnostics: &[],
        }
    }
}

impl<'a> Cause<'a> {
    /// Decode the Cause contents octets.
    pub fn decode(b: &'a [u8]) -> CapResult<Self> {
        let bad = CapError::UnexpectedDataValue("Cause");
        let (&o1, rest) = b.split_first().ok_or(bad)?;
        let (recommendation, rest) = if o1 & 0x80 == 0 {
            let (&r, rest) = rest.split_first().ok_or(bad)?;
            (Some(r & 0x7f), rest)
        } else {
            (None, rest)
        };
        let (&o2, diagnostics) = rest.split_first().ok_or(bad)?;
        Ok(Cause {
            coding_standard: (o1 >> 5) & 0x03,
            location: CauseLocation(o1 & 0x0f),
            recommendation,
            value: CauseValue(o2 & 0x7f),
            diagnostics,
        })
    }

    /// Encode the Cause contents octets.
    pub fn encode(&self) -> CapResult<NumberBuf> {
        let mut out = NumberBuf::new();
        let o1 = ((self.coding_standard & 0x03) << 5) | (self.location.0 & 0x0f);
        match self.recommendation {
            Some(r) => {
                out.push(o1)?;
                out.push(0x80 | (r & 0x7f))?;
            }
            None => out.push(0x80 | o1)?,
        }
        out.push(0x80 | (self.value.0 & 0x7f))?;
        out.extend(self.diagnostics)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cause_fixtures() {
        // ReleaseCall with normal call clearing from the public local network: 82 90
        let c = Cause::new(
            CauseLocation::PUBLIC_LOCAL,
            CauseValue::NORMAL_CALL_CLEARING,
        );
        assert_eq!(c.encode().unwrap().as_bytes(), &[0x82, 0x90]);
        assert_eq!(Cause::decode(&[0x82, 0x90]).unwrap(), c);
        // user busy with diagnostics and a recommendation octet
        let c = Cause::decode(&[0x00, 0x83, 0x91, 0x01, 0x02]).unwrap();
        assert_eq!(c.recommendation, Some(3));
        assert_eq!(c.value, CauseValue::USER_BUSY);
        assert_eq!(c.diagnostics, &[1, 2]);
        assert_eq!(
            c.encode().unwrap().as_bytes(),
            &[0x00, 0x83, 0x91, 0x01, 0x02]
        );
        assert!(Cause::decode(&[0x82]).is_err());
        assert_eq!(format!("{:?}", CauseValue(31)), "31(normal, unspecified)");
    }
}
