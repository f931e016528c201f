//! InitialDP (opcode 0): TS 29.078 §6.1.1 (CAP v4; v2/v3 use the same tags up to [59]),
//! ETS 300 374-1 §7.1 (Core INAP CS-1, which has no tag above [30]).
//!
//! ```asn1
//! InitialDPArg ::= SEQUENCE {
//!   serviceKey                      [0]  ServiceKey,
//!   calledPartyNumber               [2]  CalledPartyNumber            OPTIONAL,
//!   callingPartyNumber              [3]  CallingPartyNumber           OPTIONAL,
//!   callingPartysCategory           [5]  CallingPartysCategory        OPTIONAL,
//!   cGEncountered                   [7]  CGEncountered                OPTIONAL,
//!   iPSSPCapabilities               [8]  IPSSPCapabilities            OPTIONAL,
//!   locationNumber                  [10] LocationNumber               OPTIONAL,
//!   originalCalledPartyID           [12] OriginalCalledPartyID        OPTIONAL,
//!   extensions                      [15] Extensions                   OPTIONAL,
//!   highLayerCompatibility          [23] HighLayerCompatibility       OPTIONAL,
//!   additionalCallingPartyNumber    [25] AdditionalCallingPartyNumber OPTIONAL,
//!   bearerCapability                [27] BearerCapability             OPTIONAL,
//!   eventTypeBCSM                   [28] EventTypeBCSM                OPTIONAL,
//!   redirectingPartyID              [29] RedirectingPartyID           OPTIONAL,
//!   redirectionInformation          [30] RedirectionInformation       OPTIONAL,
//!   cause                           [17] Cause                        OPTIONAL,
//!   serviceInteractionIndicatorsTwo [32] ServiceInteractionIndicatorsTwo OPTIONAL,
//!   carrier                         [37] Carrier                      OPTIONAL,
//!   cug-Index                       [45] CUG-Index                    OPTIONAL,
//!   cug-Interlock                   [46] CUG-Interlock                OPTIONAL,
//!   cug-OutgoingAccess              [47] NULL                         OPTIONAL,
//!   iMSI                            [50] IMSI                         OPTIONAL,
//!   subscriberState                 [51] SubscriberState              OPTIONAL,
//!   locationInformation             [52] LocationInformation          OPTIONAL,
//!   ext-basicServiceCode            [53] Ext-BasicServiceCode         OPTIONAL,
//!   callReferenceNumber             [54] CallReferenceNumber          OPTIONAL,
//!   mscAddress                      [55] ISDN-AddressString           OPTIONAL,
//!   calledPartyBCDNumber            [56] CalledPartyBCDNumber         OPTIONAL,
//!   timeAndTimezone                 [57] TimeAndTimezone              OPTIONAL,
//!   callForwardingSS-Pending        [58] NULL                         OPTIONAL,
//!   initialDPArgExtension           [59] InitialDPArgExtension        OPTIONAL,
//!   ... }
//! ```
//! Core INAP CS-1 adds callingPartyBusinessGroupID [4], callingPartySubaddress [6],
//! iPAvailable [9], miscCallInfo [11], serviceProfileIdentifier [13], terminalType [14],
//! triggerType [16], serviceInteractionIndicators [24], forwardCallIndicators [26]; these and
//! every unknown extension are skipped. In the INAP dialect the CAP-only tags are skipped too.
//!
//! Decoding borrows every field and never allocates; typed accessors decode the numbers.

use bytes::BytesMut;
use strowger_ber::{write_constructed, write_enumerated, write_integer, Tag};

use crate::common::EventTypeBcsm;
use crate::dialect::Dialect;
use crate::error::{CapError, CapResult};
use crate::numbers::{
    AddressString, CalledPartyBcdNumber, CalledPartyNumber, CallingPartyNumber, Cause,
    GenericNumber, Imsi, LocationNumber, RedirectingNumber,
};
use crate::util::{
    contents, ctx, int, int_range, next, octet1, octets, put_flag, put_opt_cons, put_opt_octet1,
    put_opt_octets, sequence,
};

/// InitialDPArg. Byte-slice fields hold the OCTET STRING contents (for constructed fields,
/// the contents octets of the tagged value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct InitialDp<'a> {
    /// `serviceKey [0]`.
    pub service_key: u32,
    /// `calledPartyNumber [2]`, Q.763 Called party number.
    pub called_party_number: Option<&'a [u8]>,
    /// `callingPartyNumber [3]`, Q.763 Calling party number.
    pub calling_party_number: Option<&'a [u8]>,
    /// `callingPartysCategory [5]` (Q.763 §3.11).
    pub calling_partys_category: Option<u8>,
    /// `cGEncountered [7]`.
    pub cg_encountered: Option<i64>,
    /// `iPSSPCapabilities [8]`.
    pub ipssp_capabilities: Option<&'a [u8]>,
    /// `locationNumber [10]`, Q.763 Location number.
    pub location_number: Option<&'a [u8]>,
    /// `originalCalledPartyID [12]`, Q.763 Original called number.
    pub original_called_party_id: Option<&'a [u8]>,
    /// `extensions [15]`, raw contents.
    pub extensions: Option<&'a [u8]>,
    /// `highLayerCompatibility [23]`.
    pub high_layer_compatibility: Option<&'a [u8]>,
    /// `additionalCallingPartyNumber [25]`, Q.763 Generic number.
    pub additional_calling_party_number: Option<&'a [u8]>,
    /// `bearerCapability [27]`, raw contents of the CHOICE (e.g. `80 03 …` bearerCap).
    pub bearer_capability: Option<&'a [u8]>,
    /// `eventTypeBCSM [28]`.
    pub event_type_bcsm: Option<EventTypeBcsm>,
    /// `redirectingPartyID [29]`, Q.763 Redirecting number.
    pub redirecting_party_id: Option<&'a [u8]>,
    /// `redirectionInformation [30]`, Q.763 §3.45.
    pub redirection_information: Option<&'a [u8]>,
    /// `cause [17]` (CAP only).
    pub cause: Option<&'a [u8]>,
    /// `serviceInteractionIndicatorsTwo [32]`, raw contents (CAP only).
    pub service_interaction_indicators_two: Option<&'a [u8]>,
    /// `carrier [37]` (CAP only).
    pub carrier: Option<&'a [u8]>,
    /// `cug-Index [45]` (CAP only).
    pub cug_index: Option<&'a [u8]>,
    /// `cug-Interlock [46]` (CAP only).
    pub cug_interlock: Option<&'a [u8]>,
    /// `cug-OutgoingAccess [47]` (CAP only).
    pub cug_outgoing_access: bool,
    /// `iMSI [50]`, TBCD (CAP only).
    pub imsi: Option<&'a [u8]>,
    /// `subscriberState [51]`, raw contents (CAP only).
    pub subscriber_state: Option<&'a [u8]>,
    /// `locationInformation [52]`, raw contents (TS 29.002 LocationInformation).
    pub location_information: Option<&'a [u8]>,
    /// `ext-basicServiceCode [53]`, raw contents.
    pub ext_basic_service_code: Option<&'a [u8]>,
    /// `callReferenceNumber [54]` (1..8 octets).
    pub call_reference_number: Option<&'a [u8]>,
    /// `mscAddress [55]`, ISDN-AddressString.
    pub msc_address: Option<&'a [u8]>,
    /// `calledPartyBCDNumber [56]`, TS 24.008.
    pub called_party_bcd_number: Option<&'a [u8]>,
    /// `timeAndTimezone [57]`, 8 octets BCD.
    pub time_and_timezone: Option<&'a [u8]>,
    /// `callForwardingSS-Pending [58]` (gsm-ForwardingPending in v2).
    pub call_forwarding_ss_pending: bool,
    /// `initialDPArgExtension [59]`, raw contents.
    pub initial_dp_arg_extension: Option<&'a [u8]>,
}

fn opt<T>(v: Option<&[u8]>, f: impl FnOnce(&[u8]) -> CapResult<T>) -> CapResult<Option<T>> {
    v.map(f).transpose()
}

impl<'a> InitialDp<'a> {
    /// Decode the argument.
    pub fn decode(dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "InitialDPArg";
        let mut r = sequence(param, W)?;
        let mut v = InitialDp::default();
        let mut have_key = false;
        let cap = dialect.is_cap();
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(0) => {
                    v.service_key = u32::try_from(int_range(t, "serviceKey", 0, 2_147_483_647)?)
                        .map_err(|_| CapError::OutOfRange("serviceKey"))?;
                    have_key = true;
                }
                Some(2) => v.called_party_number = Some(octets(t, W)?),
                Some(3) => v.calling_party_number = Some(octets(t, W)?),
                Some(5) => v.calling_partys_category = Some(octet1(t, "callingPartysCategory")?),
                Some(7) => v.cg_encountered = Some(int(t, W)?),
                Some(8) => v.ipssp_capabilities = Some(octets(t, W)?),
                Some(10) => v.location_number = Some(octets(t, W)?),
                Some(12) => v.original_called_party_id = Some(octets(t, W)?),
                Some(15) => v.extensions = Some(contents(t, W)?),
                Some(23) => v.high_layer_compatibility = Some(octets(t, W)?),
                Some(25) => v.additional_calling_party_number = Some(octets(t, W)?),
                Some(27) => v.bearer_capability = Some(contents(t, W)?),
                Some(28) => v.event_type_bcsm = Some(EventTypeBcsm(int(t, W)?)),
                Some(29) => v.redirecting_party_id = Some(octets(t, W)?),
                Some(30) => v.redirection_information = Some(octets(t, W)?),
                Some(17) if cap => v.cause = Some(octets(t, W)?),
                Some(32) if cap => v.service_interaction_indicators_two = Some(contents(t, W)?),
                Some(37) if cap => v.carrier = Some(octets(t, W)?),
                Some(45) if cap => v.cug_index = Some(octets(t, W)?),
                Some(46) if cap => v.cug_interlock = Some(octets(t, W)?),
                Some(47) if cap => v.cug_outgoing_access = true,
                Some(50) if cap => v.imsi = Some(octets(t, W)?),
                Some(51) if cap => v.subscriber_state = Some(contents(t, W)?),
                Some(52) if cap => v.location_information = Some(contents(t, W)?),
                Some(53) if cap => v.ext_basic_service_code = Some(contents(t, W)?),
                Some(54) if cap => v.call_reference_number = Some(octets(t, W)?),
                Some(55) if cap => v.msc_address = Some(octets(t, W)?),
                Some(56) if cap => v.called_party_bcd_number = Some(octets(t, W)?),
                Some(57) if cap => v.time_and_timezone = Some(octets(t, W)?),
                Some(58) if cap => v.call_forwarding_ss_pending = true,
                Some(59) if cap => v.initial_dp_arg_extension = Some(contents(t, W)?),
                // INAP-only fields, later-phase fields and extensions after "...".
                _ => {}
            }
        }
        if !have_key {
            return Err(CapError::MissingParameter("serviceKey"));
        }
        Ok(v)
    }

    /// Encode the argument (fields in ASN.1 order; CAP-only fields are left out for INAP).
    pub fn encode(&self, dialect: Dialect, buf: &mut BytesMut) {
        let cap = dialect.is_cap();
        write_constructed(buf, Tag::SEQUENCE, |b| {
            write_integer(b, Tag::ctx(0), i64::from(self.service_key));
            put_opt_octets(b, 2, self.called_party_number);
            put_opt_octets(b, 3, self.calling_party_number);
            put_opt_octet1(b, 5, self.calling_partys_category);
            if let Some(v) = self.cg_encountered {
                write_enumerated(b, Tag::ctx(7), v);
            }
            put_opt_octets(b, 8, self.ipssp_capabilities);
            put_opt_octets(b, 10, self.location_number);
            put_opt_octets(b, 12, self.original_called_party_id);
            put_opt_cons(b, 15, self.extensions);
            put_opt_octets(b, 23, self.high_layer_compatibility);
            put_opt_octets(b, 25, self.additional_calling_party_number);
            put_opt_cons(b, 27, self.bearer_capability);
            if let Some(e) = self.event_type_bcsm {
                write_enumerated(b, Tag::ctx(28), e.0);
            }
            put_opt_octets(b, 29, self.redirecting_party_id);
            put_opt_octets(b, 30, self.redirection_information);
            if !cap {
                return;
            }
            put_opt_octets(b, 17, self.cause);
            put_opt_cons(b, 32, self.service_interaction_indicators_two);
            put_opt_octets(b, 37, self.carrier);
            put_opt_octets(b, 45, self.cug_index);
            put_opt_octets(b, 46, self.cug_interlock);
            put_flag(b, 47, self.cug_outgoing_access);
            put_opt_octets(b, 50, self.imsi);
            put_opt_cons(b, 51, self.subscriber_state);
            put_opt_cons(b, 52, self.location_information);
            put_opt_cons(b, 53, self.ext_basic_service_code);
            put_opt_octets(b, 54, self.call_reference_number);
            put_opt_octets(b, 55, self.msc_address);
            put_opt_octets(b, 56, self.called_party_bcd_number);
            put_opt_octets(b, 57, self.time_and_timezone);
            put_flag(b, 58, self.call_forwarding_ss_pending);
            put_opt_cons(b, 59, self.initial_dp_arg_extension);
        });
    }

    /// The called party number, decoded.
    pub fn called(&self) -> CapResult<Option<CalledPartyNumber>> {
        opt(self.called_party_number, CalledPartyNumber::decode)
    }

    /// The calling party number, decoded.
    pub fn calling(&self) -> CapResult<Option<CallingPartyNumber>> {
        opt(self.calling_party_number, CallingPartyNumber::decode)
    }

    /// The dialled number as the mobile sent it (TS 24.008), decoded.
    pub fn called_bcd(&self) -> CapResult<Option<CalledPartyBcdNumber>> {
        opt(self.called_party_bcd_number, AddressString::decode)
    }

    /// The location number, decoded.
    pub fn location(&self) -> CapResult<Option<LocationNumber>> {
        opt(self.location_number, LocationNumber::decode)
    }

    /// The additional calling party number (Generic number), decoded.
    pub fn additional_calling(&self) -> CapResult<Option<GenericNumber>> {
        opt(self.additional_calling_party_number, GenericNumber::decode)
    }

    /// The redirecting party, decoded.
    pub fn redirecting(&self) -> CapResult<Option<RedirectingNumber>> {
        opt(self.redirecting_party_id, RedirectingNumber::decode)
    }

    /// The original called party, decoded.
    pub fn original_called(&self) -> CapResult<Option<RedirectingNumber>> {
        opt(self.original_called_party_id, RedirectingNumber::decode)
    }

    /// The IMSI, decoded.
    pub fn imsi(&self) -> CapResult<Option<Imsi>> {
        opt(self.imsi, Imsi::decode)
    }

    /// The MSC address, decoded.
    pub fn msc(&self) -> CapResult<Option<AddressString>> {
        opt(self.msc_address, AddressString::decode)
    }

    /// The cause (CAP [17]), decoded.
    pub fn cause(&self) -> CapResult<Option<Cause<'a>>> {
        self.cause.map(Cause::decode).transpose()
    }

    /// The ISUP User Service Information of `bearerCapability [27] { bearerCap [0] }`.
    pub fn bearer_cap(&self) -> CapResult<Option<&'a [u8]>> {
        let Some(c) = self.bearer_capability else {
            return Ok(None);
        };
        let t = crate::util::single(c, "bearerCapability")?;
        match ctx(&t) {
            Some(0) => Ok(Some(octets(t, "bearerCap")?)),
            _ => Err(CapError::UnexpectedDataValue("bearerCapability")),
        }
    }
}
