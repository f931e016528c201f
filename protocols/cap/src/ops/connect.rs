//! Routing and release: Connect (20), Continue (31, no argument), ContinueWithArgument (88,
//! CAP v3+) and ReleaseCall (22). TS 29.078 §6.1.1; ETS 300 374-1 §7.1.
//!
//! ```asn1
//! ConnectArg ::= SEQUENCE {
//!   destinationRoutingAddress  [0]  DestinationRoutingAddress,  -- SEQUENCE SIZE(1) OF CalledPartyNumber
//!   alertingPattern            [1]  AlertingPattern             OPTIONAL,
//!   originalCalledPartyID      [6]  OriginalCalledPartyID       OPTIONAL,
//!   extensions                 [10] Extensions                  OPTIONAL,
//!   carrier                    [11] Carrier                     OPTIONAL,
//!   callingPartysCategory      [28] CallingPartysCategory       OPTIONAL,
//!   redirectingPartyID         [29] RedirectingPartyID          OPTIONAL,
//!   redirectionInformation     [30] RedirectionInformation      OPTIONAL,
//!   genericNumbers             [14] GenericNumbers              OPTIONAL,
//!   serviceInteractionIndicatorsTwo [15] ServiceInteractionIndicatorsTwo OPTIONAL,
//!   chargeNumber               [19] ChargeNumber                OPTIONAL,
//!   legToBeConnected           [21] LegID                       OPTIONAL,
//!   cug-Interlock              [31] CUG-Interlock               OPTIONAL,
//!   cug-OutgoingAccess         [32] NULL                        OPTIONAL,
//!   suppressionOfAnnouncement  [55] SuppressionOfAnnouncement   OPTIONAL,
//!   oCSIApplicable             [56] OCSIApplicable              OPTIONAL,
//!   naOliInfo                  [57] NAOliInfo                   OPTIONAL,
//!   bor-InterrogationRequested [58] NULL                        OPTIONAL,
//!   ..., suppress-N-CSI        [59] NULL                        OPTIONAL }
//! -- Core INAP CS-1: destinationRoutingAddress [0] (SIZE(1..3)), alertingPattern [1],
//! -- correlationID [2], cutAndPaste [3], forwardingCondition [4],
//! -- iSDNAccessRelatedInformation [5], originalCalledPartyID [6], routeList [7], scfID [8],
//! -- travellingClassMark [9], extensions [10], carrier [11],
//! -- serviceInteractionIndicators [26], callingPartyNumber [27], callingPartysCategory [28],
//! -- redirectingPartyID [29], redirectionInformation [30]
//!
//! ContinueWithArgumentArg ::= SEQUENCE {
//!   alertingPattern [1], extensions [6], serviceInteractionIndicatorsTwo [7],
//!   callingPartysCategory [12], genericNumbers [16], cug-Interlock [17],
//!   cug-OutgoingAccess [18] NULL, chargeNumber [50], carrier [52],
//!   suppressionOfAnnouncement [55] NULL, naOliInfo [56], bor-InterrogationRequested [57] NULL,
//!   suppress-O-CSI [58] NULL, continueWithArgumentArgExtension [59], ... }  -- all OPTIONAL
//!
//! ReleaseCallArg ::= Cause                                      -- CAP v2, v3, INAP CS-1
//! ReleaseCallArg ::= CHOICE { allCallSegments AllCallSegments,  -- = Cause   (CAP v4)
//!   allCallSegmentsWithExtension [2] SEQUENCE { allCallSegments [0] Cause,
//!                                               extensions [1] Extensions OPTIONAL } }
//! ```

use bytes::BytesMut;
use strowger_ber::{write_constructed, write_tlv, Tag};

use crate::dialect::Dialect;
use crate::error::{ber, CapError, CapResult};
use crate::numbers::{CalledPartyNumber, Cause};
use crate::util::{
    contents, ctx, next, octet1, octets, put_flag, put_opt_cons, put_opt_octet1, put_opt_octets,
    reader, required, sequence,
};

/// ConnectArg.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Connect<'a> {
    /// The (first) CalledPartyNumber of `destinationRoutingAddress [0]`.
    pub destination_routing_address: &'a [u8],
    /// `alertingPattern [1]`.
    pub alerting_pattern: Option<&'a [u8]>,
    /// `originalCalledPartyID [6]`.
    pub original_called_party_id: Option<&'a [u8]>,
    /// `extensions [10]`, raw contents.
    pub extensions: Option<&'a [u8]>,
    /// `carrier [11]`.
    pub carrier: Option<&'a [u8]>,
    /// `genericNumbers [14]` (CAP), raw contents of the SET OF.
    pub generic_numbers: Option<&'a [u8]>,
    /// `serviceInteractionIndicatorsTwo [15]` (CAP), raw contents.
    pub service_interaction_indicators_two: Option<&'a [u8]>,
    /// `chargeNumber [19]` (CAP).
    pub charge_number: Option<&'a [u8]>,
    /// `legToBeConnected [21]` (CAP v4), raw contents.
    pub leg_to_be_connected: Option<&'a [u8]>,
    /// `callingPartyNumber [27]` (INAP CS-1 only).
    pub calling_party_number: Option<&'a [u8]>,
    /// `callingPartysCategory [28]`.
    pub calling_partys_category: Option<u8>,
    /// `redirectingPartyID [29]`.
    pub redirecting_party_id: Option<&'a [u8]>,
    /// `redirectionInformation [30]`.
    pub redirection_information: Option<&'a [u8]>,
    /// `cug-Interlock [31]` (CAP).
    pub cug_interlock: Option<&'a [u8]>,
    /// `cug-OutgoingAccess [32]` (CAP).
    pub cug_outgoing_access: bool,
    /// `suppressionOfAnnouncement [55]` (CAP).
    pub suppression_of_announcement: bool,
    /// `oCSIApplicable [56]` (CAP).
    pub o_csi_applicable: bool,
    /// `naOliInfo [57]` (CAP).
    pub na_oli_info: Option<u8>,
    /// `bor-InterrogationRequested [58]` (CAP).
    pub bor_interrogation_requested: bool,
    /// `suppress-N-CSI [59]` (CAP v4).
    pub suppress_n_csi: bool,
}

impl<'a> Connect<'a> {
    /// A Connect to `destination` (Q.763 CalledPartyNumber contents) and nothing else.
    pub fn to(destination: &'a [u8]) -> Self {
        Connect {
            destination_routing_address: destination,
            ..Connect::default()
        }
    }

    /// Decode the argument.
    pub fn decode(dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "ConnectArg";
        let mut r = sequence(param, W)?;
        let mut v = Connect::default();
        let mut dra = None;
        let cap = dialect.is_cap();
        let v4 = dialect == Dialect::CapV4;
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(0) => {
                    let mut s = reader(t, W)?;
                    let first = s
                        .expect(Tag::OCTET_STRING, "destinationRoutingAddress")
                        .map_err(ber(W))?;
                    dra = Some(octets(first, W)?);
                    s.skip_rest().map_err(ber(W))?;
                }
                Some(1) => v.alerting_pattern = Some(octets(t, W)?),
                Some(6) => v.original_called_party_id = Some(octets(t, W)?),
                Some(10) => v.extensions = Some(contents(t, W)?),
                Some(11) => v.carrier = Some(octets(t, W)?),
                Some(28) => v.calling_partys_category = Some(octet1(t, "callingPartysCategory")?),
                Some(29) => v.redirecting_party_id = Some(octets(t, W)?),
                Some(30) => v.redirection_information = Some(octets(t, W)?),
                Some(27) if !cap => v.calling_party_number = Some(octets(t, W)?),
                Some(14) if cap => v.generic_numbers = Some(contents(t, W)?),
                Some(15) if cap => v.service_interaction_indicators_two = Some(contents(t, W)?),
                Some(19) if cap => v.charge_number = Some(octets(t, W)?),
                // legToBeConnected and suppress-N-CSI are CAP v4 only (skipped before, as
                // they are not encoded before).
                Some(21) if v4 => v.leg_to_be_connected = Some(contents(t, W)?),
                Some(31) if cap => v.cug_interlock = Some(octets(t, W)?),
                Some(32) if cap => v.cug_outgoing_access = true,
                Some(55) if cap => v.suppression_of_announcement = true,
                Some(56) if cap => v.o_csi_applicable = true,
                Some(57) if cap => v.na_oli_info = Some(octet1(t, "naOliInfo")?),
                Some(58) if cap => v.bor_interrogation_requested = true,
                Some(59) if v4 => v.suppress_n_csi = true,
                _ => {}
            }
        }
        v.destination_routing_address =
            dra.ok_or(CapError::MissingParameter("destinationRoutingAddress"))?;
        Ok(v)
    }

    /// Encode the argument (fields in ASN.1 order; fields the dialect lacks are left out).
    pub fn encode(&self, dialect: Dialect, buf: &mut BytesMut) {
        let cap = dialect.is_cap();
        write_constructed(buf, Tag::SEQUENCE, |b| {
            write_constructed(b, Tag::ctx_cons(0), |b| {
                write_tlv(b, Tag::OCTET_STRING, self.destination_routing_address)
            });
            put_opt_octets(b, 1, self.alerting_pattern);
            put_opt_octets(b, 6, self.original_called_party_id);
            put_opt_cons(b, 10, self.extensions);
            put_opt_octets(b, 11, self.carrier);
            if !cap {
                put_opt_octets(b, 27, self.calling_party_number);
            }
            put_opt_octet1(b, 28, self.calling_partys_category);
            put_opt_octets(b, 29, self.redirecting_party_id);
            put_opt_octets(b, 30, self.redirection_information);
            if !cap {
                return;
            }
            put_opt_cons(b, 14, self.generic_numbers);
            put_opt_cons(b, 15, self.service_interaction_indicators_two);
            put_opt_octets(b, 19, self.charge_number);
            if dialect == Dialect::CapV4 {
                put_opt_cons(b, 21, self.leg_to_be_connected);
            }
            put_opt_octets(b, 31, self.cug_interlock);
            put_flag(b, 32, self.cug_outgoing_access);
            put_flag(b, 55, self.suppression_of_announcement);
            put_flag(b, 56, self.o_csi_applicable);
            put_opt_octet1(b, 57, self.na_oli_info);
            put_flag(b, 58, self.bor_interrogation_requested);
            if dialect == Dialect::CapV4 {
                put_flag(b, 59, self.suppress_n_csi);
            }
        });
    }

    /// The destination, decoded.
    pub fn destination(&self) -> CapResult<CalledPartyNumber> {
        CalledPartyNumber::decode(self.destination_routing_address)
    }
}

/// ContinueWithArgumentArg (CAP v3+).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ContinueWithArgument<'a> {
    /// `alertingPattern [1]`.
    pub alerting_pattern: Option<&'a [u8]>,
    /// `extensions [6]`, raw contents.
    pub extensions: Option<&'a [u8]>,
    /// `serviceInteractionIndicatorsTwo [7]`, raw contents.
    pub service_interaction_indicators_two: Option<&'a [u8]>,
    /// `callingPartysCategory [12]`.
    pub calling_partys_category: Option<u8>,
    /// `genericNumbers [16]`, raw contents.
    pub generic_numbers: Option<&'a [u8]>,
    /// `cug-Interlock [17]`.
    pub cug_interlock: Option<&'a [u8]>,
    /// `cug-OutgoingAccess [18]`.
    pub cug_outgoing_access: bool,
    /// `chargeNumber [50]`.
    pub charge_number: Option<&'a [u8]>,
    /// `carrier [52]`.
    pub carrier: Option<&'a [u8]>,
    /// `suppressionOfAnnouncement [55]`.
    pub suppression_of_announcement: bool,
    /// `naOliInfo [56]`.
    pub na_oli_info: Option<u8>,
    /// `bor-InterrogationRequested [57]`.
    pub bor_interrogation_requested: bool,
    /// `suppress-O-CSI [58]`.
    pub suppress_o_csi: bool,
    /// `continueWithArgumentArgExtension [59]`, raw contents.
    pub arg_extension: Option<&'a [u8]>,
}

impl<'a> ContinueWithArgument<'a> {
    /// Decode the argument.
    pub fn decode(_dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "ContinueWithArgumentArg";
        let mut r = sequence(param, W)?;
        let mut v = ContinueWithArgument::default();
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(1) => v.alerting_pattern = Some(octets(t, W)?),
                Some(6) => v.extensions = Some(contents(t, W)?),
                Some(7) => v.service_interaction_indicators_two = Some(contents(t, W)?),
                Some(12) => v.calling_partys_category = Some(octet1(t, "callingPartysCategory")?),
                Some(16) => v.generic_numbers = Some(contents(t, W)?),
                Some(17) => v.cug_interlock = Some(octets(t, W)?),
                Some(18) => v.cug_outgoing_access = true,
                Some(50) => v.charge_number = Some(octets(t, W)?),
                Some(52) => v.carrier = Some(octets(t, W)?),
                Some(55) => v.suppression_of_announcement = true,
                Some(56) => v.na_oli_info = Some(octet1(t, "naOliInfo")?),
                Some(57) => v.bor_interrogation_requested = true,
                Some(58) => v.suppress_o_csi = true,
                Some(59) => v.arg_extension = Some(contents(t, W)?),
                _ => {}
            }
        }
        Ok(v)
    }

    /// Encode the argument.
    pub fn encode(&self, _dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            put_opt_octets(b, 1, self.alerting_pattern);
            put_opt_cons(b, 6, self.extensions);
            put_opt_cons(b, 7, self.service_interaction_indicators_two);
            put_opt_octet1(b, 12, self.calling_partys_category);
            put_opt_cons(b, 16, self.generic_numbers);
            put_opt_octets(b, 17, self.cug_interlock);
            put_flag(b, 18, self.cug_outgoing_access);
            put_opt_octets(b, 50, self.charge_number);
            put_opt_octets(b, 52, self.carrier);
            put_flag(b, 55, self.suppression_of_announcement);
            put_opt_octet1(b, 56, self.na_oli_info);
            put_flag(b, 57, self.bor_interrogation_requested);
            put_flag(b, 58, self.suppress_o_csi);
            put_opt_cons(b, 59, self.arg_extension);
        });
    }
}

/// ReleaseCallArg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleaseCall<'a> {
    /// Q.850 cause contents (see [`Cause`]).
    pub cause: &'a [u8],
    /// CAP v4 `allCallSegmentsWithExtension` extensions, raw contents. When set, CAP v4
    /// encodes the `[2]` alternative; other dialects cannot carry them.
    pub extensions: Option<&'a [u8]>,
}

impl<'a> ReleaseCall<'a> {
    /// Decode the argument.
    pub fn decode(_dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "ReleaseCallArg";
        let t = required(param, W)?;
        if t.tag.same_number(Tag::OCTET_STRING) {
            return Ok(ReleaseCall {
                cause: octets(t, W)?,
                extensions: None,
            });
        }
        if t.tag == Tag::ctx_cons(2) {
            let mut r = reader(t, W)?;
            let cause = octets(r.expect(Tag::ctx(0), "allCallSegments").map_err(ber(W))?, W)?;
            let extensions = r
                .optional(Tag::ctx_cons(1))
                .map_err(ber(W))?
                .map(|e| e.value);
            r.skip_rest().map_err(ber(W))?;
            return Ok(ReleaseCall { cause, extensions });
        }
        Err(CapError::Malformed {
            what: W,
            source: strowger_ber::BerError::UnexpectedTag {
                expected: Tag::OCTET_STRING,
                found: t.tag,
            },
        })
    }

    /// Encode the argument.
    pub fn encode(&self, dialect: Dialect, buf: &mut BytesMut) {
        match self.extensions {
            Some(ext) if dialect == Dialect::CapV4 => {
                write_constructed(buf, Tag::ctx_cons(2), |b| {
                    write_tlv(b, Tag::ctx(0), self.cause);
                    write_tlv(b, Tag::ctx_cons(1), ext);
                });
            }
            _ => write_tlv(buf, Tag::OCTET_STRING, self.cause),
        }
    }

    /// The cause, decoded.
    pub fn decoded_cause(&self) -> CapResult<Cause<'a>> {
        Cause::decode(self.cause)
    }
}
