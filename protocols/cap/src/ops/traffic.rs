//! Traffic management and timers: CallGap (41, CAP v3+ / INAP CS-1), ResetTimer (33),
//! ActivityTest (55, no argument, empty result). TS 29.078 §6.1.1; ETS 300 374-1 §7.1.
//!
//! ```asn1
//! CallGapArg ::= SEQUENCE {
//!   gapCriteria   [0] GapCriteria,
//!   gapIndicators [1] GapIndicators,
//!   controlType   [2] ControlType  OPTIONAL,  -- sCPOverloaded(0), manuallyInitiated(1)
//!   gapTreatment  [3] GapTreatment OPTIONAL,
//!   extensions    [4] Extensions   OPTIONAL, ... }
//! GapCriteria ::= CHOICE { basicGapCriteria BasicGapCriteria,
//!                          compoundGapCriteria CompoundCriteria }   -- CAP only
//! BasicGapCriteria ::= CHOICE {
//!   calledAddressValue       [0]  Digits,
//!   gapOnService             [2]  SEQUENCE { serviceKey [0] ServiceKey, ... },
//!   calledAddressAndService  [29] SEQUENCE { calledAddressValue [0] Digits,
//!                                            serviceKey [1] ServiceKey, ... },
//!   callingAddressAndService [30] SEQUENCE { callingAddressValue [0] Digits,
//!                                            serviceKey [1] ServiceKey, ... } }
//! GapIndicators ::= SEQUENCE { duration [0] Duration,      -- -2..86400 s (-1 infinite)
//!                              gapInterval [1] Interval,   -- -1..60000 ms
//!                              ... }
//! GapTreatment ::= CHOICE { informationToSend [0] InformationToSend,
//!                           releaseCause [1] Cause }
//!
//! ResetTimerArg ::= SEQUENCE { timerID [0] TimerID DEFAULT tssf, timervalue [1] TimerValue,
//!   extensions [2] Extensions OPTIONAL, callSegmentID [3] CallSegmentID OPTIONAL, ... }
//! ```

use bytes::BytesMut;
use strowger_ber::{write_constructed, write_enumerated, write_integer, write_tlv, Tag};

use crate::dialect::Dialect;
use crate::error::{ber, CapError, CapResult};
use crate::ops::srf::InformationToSend;
use crate::util::{
    contents, ctx, explicit, int, int_range, next, next_with_encoding, octets, put_opt_cons,
    put_opt_int, reader, sequence, uint,
};

/// `GapCriteria`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapCriteria<'a> {
    /// `calledAddressValue [0]`: gap calls to numbers starting with these digits
    /// (Generic Number contents).
    CalledAddressValue(&'a [u8]),
    /// `gapOnService [2]`: gap calls for this service key.
    GapOnService(u32),
    /// `calledAddressAndService [29]`.
    CalledAddressAndService {
        /// Called address prefix.
        called_address_value: &'a [u8],
        /// Service key.
        service_key: u32,
    },
    /// `callingAddressAndService [30]`.
    CallingAddressAndService {
        /// Calling address prefix.
        calling_address_value: &'a [u8],
        /// Service key.
        service_key: u32,
    },
    /// Any other criteria (e.g. compoundGapCriteria), as its complete TLV.
    Other(&'a [u8]),
}

/// `GapTreatment`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapTreatment<'a> {
    /// `informationToSend [0]`.
    InformationToSend(InformationToSend<'a>),
    /// `releaseCause [1]`, Q.850 Cause contents.
    ReleaseCause(&'a [u8]),
}

/// CallGapArg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallGap<'a> {
    /// Which calls to gap.
    pub gap_criteria: GapCriteria<'a>,
    /// `duration [0]` seconds (-1 = infinite, -2 = network specific).
    pub duration: i32,
    /// `gapInterval [1]` milliseconds (0 = stop gapping, -1 = all calls).
    pub gap_interval: i32,
    /// `controlType [2]`.
    pub control_type: Option<i64>,
    /// `gapTreatment [3]`.
    pub gap_treatment: Option<GapTreatment<'a>>,
    /// `extensions [4]`, raw contents.
    pub extensions: Option<&'a [u8]>,
}

impl<'a> CallGap<'a> {
    /// `controlType sCPOverloaded`.
    pub const SCP_OVERLOADED: i64 = 0;

    /// Decode the argument.
    pub fn decode(_dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "CallGapArg";
        let mut r = sequence(param, W)?;
        let (mut crit, mut ind) = (None, None);
        let mut v = CallGap {
            gap_criteria: GapCriteria::GapOnService(0),
            duration: 0,
            gap_interval: 0,
            control_type: None,
            gap_treatment: None,
            extensions: None,
        };
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(0) => {
                    let mut s = reader(t, W)?;
                    let Some((c, enc)) = next_with_encoding(&mut s, W)? else {
                        return Err(CapError::MissingParameter("gapCriteria"));
                    };
                    let pair = |c| -> CapResult<(&'a [u8], u32)> {
                        let mut p = reader(c, W)?;
                        let a = octets(p.expect(Tag::ctx(0), "addressValue").map_err(ber(W))?, W)?;
                        let k = uint(
                            p.expect(Tag::ctx(1), "serviceKey").map_err(ber(W))?,
                            W,
                            0,
                            2_147_483_647,
                        )?;
                        p.skip_rest().map_err(ber(W))?;
                        Ok((a, k))
                    };
                    crit = Some(match ctx(&c) {
                        Some(0) => GapCriteria::CalledAddressValue(octets(c, W)?),
                        Some(2) => {
                            let mut p = reader(c, W)?;
                            let k = p.expect(Tag::ctx(0), "serviceKey").map_err(ber(W))?;
                            p.skip_rest().map_err(ber(W))?;
                            GapCriteria::GapOnService(uint(k, W, 0, 2_147_483_647)?)
                        }
                        Some(29) => {
                            let (a, k) = pair(c)?;
                            GapCriteria::CalledAddressAndService {
                                called_address_value: a,
                                service_key: k,
                            }
                        }
                        Some(30) => {
                            let (a, k) = pair(c)?;
                            GapCriteria::CallingAddressAndService {
                                calling_address_value: a,
                                service_key: k,
                            }
                        }
                        _ => GapCriteria::Other(enc),
                    });
                }
                Some(1) => {
                    let mut s = reader(t, W)?;
                    let d = s.expect(Tag::ctx(0), "duration").map_err(ber(W))?;
                    let i = s.expect(Tag::ctx(1), "gapInterval").map_err(ber(W))?;
                    s.skip_rest().map_err(ber(W))?;
                    ind = Some((
                        int_range(d, "duration", -2, 86_400)? as i32,
                        int_range(i, "gapInterval", -1, 60_000)? as i32,
                    ));
                }
                Some(2) => v.control_type = Some(int(t, W)?),
                Some(3) => {
                    let alt = explicit(t, "gapTreatment")?;
                    v.gap_treatment = Some(match ctx(&alt) {
                        Some(0) => GapTreatment::InformationToSend(InformationToSend::decode(alt)?),
                        Some(1) => GapTreatment::ReleaseCause(octets(alt, W)?),
                        _ => return Err(CapError::UnexpectedDataValue("gapTreatment")),
                    });
                }
                Some(4) => v.extensions = Some(contents(t, W)?),
                _ => {}
            }
        }
        v.gap_criteria = crit.ok_or(CapError::MissingParameter("gapCriteria"))?;
        (v.duration, v.gap_interval) = ind.ok_or(CapError::MissingParameter("gapIndicators"))?;
        Ok(v)
    }

    /// Encode the argument.
    pub fn encode(&self, _dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            write_constructed(b, Tag::ctx_cons(0), |b| match self.gap_criteria {
                GapCriteria::CalledAddressValue(a) => write_tlv(b, Tag::ctx(0), a),
                GapCriteria::GapOnService(k) => write_constructed(b, Tag::ctx_cons(2), |b| {
                    write_integer(b, Tag::ctx(0), i64::from(k))
                }),
                GapCriteria::CalledAddressAndService {
                    called_address_value: a,
                    service_key: k,
                }
                | GapCriteria::CallingAddressAndService {
                    calling_address_value: a,
                    service_key: k,
                } => {
                    let n = if matches!(
                        self.gap_criteria,
                        GapCriteria::CalledAddressAndService { .. }
                    ) {
                        29
                    } else {
                        30
                    };
                    write_constructed(b, Tag::ctx_cons(n), |b| {
                        write_tlv(b, Tag::ctx(0), a);
                        write_integer(b, Tag::ctx(1), i64::from(k));
                    });
                }
                GapCriteria::Other(raw) => b.extend_from_slice(raw),
            });
            write_constructed(b, Tag::ctx_cons(1), |b| {
                write_integer(b, Tag::ctx(0), i64::from(self.duration));
                write_integer(b, Tag::ctx(1), i64::from(self.gap_interval));
            });
            if let Some(c) = self.control_type {
                write_enumerated(b, Tag::ctx(2), c);
            }
            if let Some(t) = &self.gap_treatment {
                write_constructed(b, Tag::ctx_cons(3), |b| match t {
                    GapTreatment::InformationToSend(i) => i.encode(0, b),
                    GapTreatment::ReleaseCause(c) => write_tlv(b, Tag::ctx(1), c),
                });
            }
            put_opt_cons(b, 4, self.extensions);
        });
    }
}

/// ResetTimerArg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResetTimer<'a> {
    /// `timerID [0]` (DEFAULT tssf(0)).
    pub timer_id: i64,
    /// `timervalue [1]` seconds.
    pub timer_value: u32,
    /// `extensions [2]`, raw contents.
    pub extensions: Option<&'a [u8]>,
    /// `callSegmentID [3]` (CAP v4).
    pub call_segment_id: Option<u32>,
}

impl<'a> ResetTimer<'a> {
    /// Reset Tssf to `seconds`.
    pub const fn tssf(seconds: u32) -> Self {
        ResetTimer {
            timer_id: 0,
            timer_value: seconds,
            extensions: None,
            call_segment_id: None,
        }
    }

    /// Decode the argument.
    pub fn decode(dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "ResetTimerArg";
        let v4 = dialect == Dialect::CapV4;
        let mut r = sequence(param, W)?;
        let mut value = None;
        let mut v = ResetTimer::tssf(0);
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(0) => v.timer_id = int(t, W)?,
                Some(1) => value = Some(uint(t, "timervalue", 0, 2_147_483_647)?),
                Some(2) => v.extensions = Some(contents(t, W)?),
                // callSegmentID is CAP v4 only: skipped in earlier phases, as it is not encoded.
                Some(3) if v4 => v.call_segment_id = Some(uint(t, "callSegmentID", 1, 127)?),
                _ => {}
            }
        }
        v.timer_value = value.ok_or(CapError::MissingParameter("timervalue"))?;
        Ok(v)
    }

    /// Encode the argument.
    pub fn encode(&self, dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            if self.timer_id != 0 {
                write_enumerated(b, Tag::ctx(0), self.timer_id);
            }
            write_integer(b, Tag::ctx(1), i64::from(self.timer_value));
            put_opt_cons(b, 2, self.extensions);
            if dialect == Dialect::CapV4 {
                put_opt_int(b, 3, self.call_segment_id);
            }
        });
    }
}
