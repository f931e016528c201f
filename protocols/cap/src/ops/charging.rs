//! Charging operations: ApplyCharging (35), ApplyChargingReport (36),
//! FurnishChargingInformation (34), SendChargingInformation (46), CallInformationRequest (45)
//! and CallInformationReport (44). TS 29.078 §6.1.1 and §5.1; ETS 300 374-1 §7.1 (in INAP
//! CS-1 the charging OCTET STRINGs are network specific: they are read as the CAMEL types
//! where they parse as such and kept raw otherwise).
//!
//! ```asn1
//! ApplyChargingArg ::= SEQUENCE {
//!   aChBillingChargingCharacteristics [0]  AChBillingChargingCharacteristics,
//!   partyToCharge                     [2]  SendingSideID DEFAULT sendingSideID : leg1,
//!   extensions                        [3]  Extensions OPTIONAL,
//!   aChChargingAddress                [50] AChChargingAddress DEFAULT legID:sendingSideID:leg1,
//!   ... }
//! AChBillingChargingCharacteristics ::= OCTET STRING (CONSTRAINED BY
//!   -- the BER encoding of -- CAMEL-AChBillingChargingCharacteristics)
//! CAMEL-AChBillingChargingCharacteristics ::= CHOICE {
//!   timeDurationCharging [0] SEQUENCE {
//!     maxCallPeriodDuration     [0] INTEGER (1..864000),          -- 100 ms units
//!     releaseIfdurationExceeded [1] BOOLEAN DEFAULT FALSE,
//!         -- CAP v2: [1] ReleaseIfDurationExceeded ::= SEQUENCE {
//!         --           tone BOOLEAN DEFAULT FALSE, ..., extensions [10] … } OPTIONAL
//!     tariffSwitchInterval      [2] INTEGER (1..86400) OPTIONAL,  -- seconds
//!     audibleIndicator          [3] AudibleIndicator DEFAULT tone: FALSE,
//!         -- CAP v3: tone [3] BOOLEAN DEFAULT FALSE
//!         -- CAP v4: AudibleIndicator ::= CHOICE { tone BOOLEAN, burstList [1] BurstList }
//!     extensions                [4] Extensions OPTIONAL, ... } }
//!
//! ApplyChargingReportArg ::= CallResult    -- OCTET STRING containing CAMEL-CallResult
//! CAMEL-CallResult ::= CHOICE {
//!   timeDurationChargingResult [0] SEQUENCE {
//!     partyToCharge              [0] ReceivingSideID,
//!     timeInformation            [1] TimeInformation,
//!     legActive                  [2] BOOLEAN DEFAULT TRUE,    -- v2: callActive
//!     callLegReleasedAtTcpExpiry [3] NULL OPTIONAL,
//!     extensions                 [4] Extensions OPTIONAL,
//!     aChChargingAddress         [5] AChChargingAddress DEFAULT …, ... } }
//! TimeInformation ::= CHOICE {
//!   timeIfNoTariffSwitch [0] INTEGER (0..864000),             -- 100 ms since answer
//!   timeIfTariffSwitch   [1] SEQUENCE { timeSinceTariffSwitch [0] INTEGER (0..864000),
//!                                       tariffSwitchInterval  [1] INTEGER (1..864000) OPTIONAL } }
//!
//! FurnishChargingInformationArg ::= FCIBillingChargingCharacteristics  -- OCTET STRING
//! CAMEL-FCIBillingChargingCharacteristics ::= CHOICE { fCIBCCCAMELsequence1 [0] SEQUENCE {
//!   freeFormatData [0] OCTET STRING (SIZE(1..160)),           -- v2: SIZE(1..40)
//!   partyToCharge [1] SendingSideID DEFAULT sendingSideID: leg1,
//!   appendFreeFormatData [2] AppendFreeFormatData DEFAULT overwrite,  -- v3+
//!   ... } }
//!
//! SendChargingInformationArg ::= SEQUENCE {
//!   sCIBillingChargingCharacteristics [0] SCIBillingChargingCharacteristics,
//!   partyToCharge [1] SendingSideID, extensions [2] Extensions OPTIONAL, ... }
//!
//! CallInformationRequestArg ::= SEQUENCE {
//!   requestedInformationTypeList [0] RequestedInformationTypeList,
//!   -- INAP CS-1: correlationID [1] OPTIONAL
//!   extensions [2] Extensions OPTIONAL,
//!   legID [3] SendingSideID DEFAULT sendingSideID:leg2, ... }
//! CallInformationReportArg ::= SEQUENCE {
//!   requestedInformationList [0] RequestedInformationList,
//!   extensions [2] Extensions OPTIONAL,
//!   legID [3] ReceivingSideID DEFAULT receivingSideID:leg2, ... }
//! RequestedInformation ::= SEQUENCE { requestedInformationType [0] RequestedInformationType,
//!   requestedInformationValue [1] RequestedInformationValue, ... }
//! RequestedInformationValue ::= CHOICE { callAttemptElapsedTimeValue [0] INTEGER (0..255),
//!   callStopTimeValue [1] DateAndTime, callConnectedElapsedTimeValue [2] Integer4,
//!   releaseCauseValue [30] Cause }
//! ```

use bytes::BytesMut;
use strowger_ber::{
    write_bool, write_constructed, write_enumerated, write_integer, write_tlv, Tag, Tlv,
};

use crate::common::{open_enum, LegId, LegType};
use crate::dialect::Dialect;
use crate::error::{ber, CapError, CapResult};
use crate::list::{List, ListItem};
use crate::util::{
    boolean, contents, ctx, explicit, int, next, null, octets, put_opt_cons, reader, required,
    sequence, single, uint,
};

/// `timeDurationCharging`: the grant of one ApplyCharging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeDurationCharging<'a> {
    /// Maximum call period, 100 ms units (1..864000).
    pub max_call_period_duration: u32,
    /// Release the call when the period expires.
    pub release_if_duration_exceeded: bool,
    /// Tariff switch interval, seconds.
    pub tariff_switch_interval: Option<u32>,
    /// Play a warning tone 30 s before the period expires. CAP v2 carries it inside
    /// releaseIfdurationExceeded, so it is only sent there when release is set too.
    pub tone: bool,
    /// CAP v4 `audibleIndicator burstList [1]`, raw contents.
    pub burst_list: Option<&'a [u8]>,
    /// `extensions [4]` (v3+), raw contents.
    pub extensions: Option<&'a [u8]>,
}

impl<'a> TimeDurationCharging<'a> {
    /// A grant of `max_call_period_duration` (100 ms units), released when it expires.
    pub const fn new(max_call_period_duration: u32, release: bool) -> Self {
        TimeDurationCharging {
            max_call_period_duration,
            release_if_duration_exceeded: release,
            tariff_switch_interval: None,
            tone: false,
            burst_list: None,
            extensions: None,
        }
    }

    fn decode(dialect: Dialect, b: &'a [u8]) -> CapResult<Self> {
        const W: &str = "CAMEL-AChBillingChargingCharacteristics";
        // CAP v2 has no extensions [4] at this level, and carries the tone only inside
        // releaseIfDurationExceeded (a later phase's tone [3] is read leniently, but kept only
        // when release is set, as only then can v2 encode it); burstList is CAP v4 only.
        // What the dialect cannot encode is skipped, so re-encoding reproduces the value.
        let v2 = dialect == Dialect::CapV2;
        let v4 = dialect == Dialect::CapV4;
        let t = single(b, W)?;
        if ctx(&t) != Some(0) {
            return Err(CapError::UnexpectedDataValue(W));
        }
        let mut r = reader(t, W)?;
        let mut max = None;
        let mut v = TimeDurationCharging::new(0, false);
        while let Some(f) = next(&mut r, W)? {
            match ctx(&f) {
                Some(0) => max = Some(uint(f, "maxCallPeriodDuration", 1, 864_000)?),
                Some(1) if f.tag.constructed => {
                    // CAP v2 ReleaseIfDurationExceeded ::= SEQUENCE { tone BOOLEAN DEFAULT FALSE, ... }
                    v.release_if_duration_exceeded = true;
                    let mut s = reader(f, W)?;
                    if let Some(tone) = s.optional(Tag::BOOLEAN).map_err(ber(W))? {
                        v.tone = boolean(tone, W)?;
                    }
                    s.skip_rest().map_err(ber(W))?;
                }
                Some(1) => v.release_if_duration_exceeded = boolean(f, W)?,
                Some(2) => {
                    v.tariff_switch_interval = Some(uint(f, "tariffSwitchInterval", 1, 86_400)?)
                }
                Some(4) if v2 => {}
                Some(3) if f.tag.constructed => {
                    // CAP v4 AudibleIndicator, a CHOICE under an explicit tag.
                    let a = explicit(f, W)?;
                    if a.tag == Tag::BOOLEAN {
                        v.tone = boolean(a, W)?;
                    } else if ctx(&a) == Some(1) {
                        let bl = contents(a, W)?;
                        if v4 {
                            v.burst_list = Some(bl);
                        }
                    } else {
                        return Err(CapError::UnexpectedDataValue("audibleIndicator"));
                    }
                }
                Some(3) => v.tone = boolean(f, W)?,
                Some(4) => v.extensions = Some(contents(f, W)?),
                _ => {}
            }
        }
        v.max_call_period_duration =
            max.ok_or(CapError::MissingParameter("maxCallPeriodDuration"))?;
        if v.burst_list.is_some() {
            // AudibleIndicator is a CHOICE: a burst list is written instead of the tone.
            v.tone = false;
        }
        if v2 && !v.release_if_duration_exceeded {
            // CAP v2 carries the tone only inside releaseIfDurationExceeded.
            v.tone = false;
        }
        Ok(v)
    }

    fn encode(&self, dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::ctx_cons(0), |b| {
            write_integer(b, Tag::ctx(0), i64::from(self.max_call_period_duration));
            match dialect {
                Dialect::CapV2 => {
                    if self.release_if_duration_exceeded {
                        write_constructed(b, Tag::ctx_cons(1), |b| {
                            if self.tone {
                                write_bool(b, Tag::BOOLEAN, true);
                            }
                        });
                    }
                }
                _ => {
                    if self.release_if_duration_exceeded {
                        write_bool(b, Tag::ctx(1), true);
                    }
                }
            }
            if let Some(t) = self.tariff_switch_interval {
                write_integer(b, Tag::ctx(2), i64::from(t));
            }
            match dialect {
                Dialect::CapV2 => return,
                Dialect::CapV4 => {
                    if let Some(bl) = self.burst_list {
                        write_constructed(b, Tag::ctx_cons(3), |b| {
                            write_tlv(b, Tag::ctx_cons(1), bl)
                        });
                    } else if self.tone {
                        write_constructed(b, Tag::ctx_cons(3), |b| {
                            write_bool(b, Tag::BOOLEAN, true)
                        });
                    }
                }
                Dialect::CapV3 | Dialect::InapCs1 => {
                    if self.tone {
                        write_bool(b, Tag::ctx(3), true);
                    }
                }
            }
            put_opt_cons(b, 4, self.extensions);
        });
    }
}

/// `AChBillingChargingCharacteristics`: the CAMEL type, or raw network-specific contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AChBilling<'a> {
    /// `timeDurationCharging`.
    TimeDuration(TimeDurationCharging<'a>),
    /// Contents that are not the CAMEL type (INAP CS-1 network-specific formats).
    Raw(&'a [u8]),
}

/// ApplyChargingArg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApplyCharging<'a> {
    /// What to charge and when to report.
    pub ach_billing: AChBilling<'a>,
    /// `partyToCharge [2]` (DEFAULT sendingSideID leg1; always sent).
    pub party_to_charge: LegId,
    /// `extensions [3]`, raw contents.
    pub extensions: Option<&'a [u8]>,
    /// `aChChargingAddress [50]` (v4), raw contents.
    pub ach_charging_address: Option<&'a [u8]>,
}

impl<'a> ApplyCharging<'a> {
    /// A time-duration grant for leg 1.
    pub const fn time_duration(tdc: TimeDurationCharging<'a>) -> Self {
        ApplyCharging {
            ach_billing: AChBilling::TimeDuration(tdc),
            party_to_charge: LegId::Sending(LegType::LEG1),
            extensions: None,
            ach_charging_address: None,
        }
    }

    /// Decode the argument.
    pub fn decode(dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "ApplyChargingArg";
        let mut r = sequence(param, W)?;
        let mut ach = None;
        let mut v = ApplyCharging {
            ach_billing: AChBilling::Raw(&[]),
            party_to_charge: LegId::Sending(LegType::LEG1),
            extensions: None,
            ach_charging_address: None,
        };
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(0) => {
                    let raw = octets(t, W)?;
                    ach = Some(match TimeDurationCharging::decode(dialect, raw) {
                        Ok(tdc) => AChBilling::TimeDuration(tdc),
                        Err(_) if dialect == Dialect::InapCs1 => AChBilling::Raw(raw),
                        Err(e) => return Err(e),
                    });
                }
                Some(2) => v.party_to_charge = LegId::decode(t, "partyToCharge")?,
                Some(3) => v.extensions = Some(contents(t, W)?),
                // aChChargingAddress is CAP v4 only.
                Some(50) if dialect == Dialect::CapV4 => {
                    v.ach_charging_address = Some(contents(t, W)?)
                }
                _ => {}
            }
        }
        v.ach_billing = ach.ok_or(CapError::MissingParameter(
            "aChBillingChargingCharacteristics",
        ))?;
        Ok(v)
    }

    /// Encode the argument.
    pub fn encode(&self, dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            match &self.ach_billing {
                AChBilling::TimeDuration(t) => {
                    // The OCTET STRING's contents are themselves BER: write them in place.
                    octet_wrapped(b, Tag::ctx(0), |b| t.encode(dialect, b));
                }
                AChBilling::Raw(raw) => write_tlv(b, Tag::ctx(0), raw),
            }
            self.party_to_charge.encode(2, b);
            put_opt_cons(b, 3, self.extensions);
            if dialect == Dialect::CapV4 {
                put_opt_cons(b, 50, self.ach_charging_address);
            }
        });
    }
}

/// Write `tag` (primitive) whose contents `f` writes.
/// (An OCTET STRING holding BER, written in place; tag numbers here are all below 31, so the
/// identifier is one octet.)
pub(crate) fn octet_wrapped(buf: &mut BytesMut, tag: Tag, f: impl FnOnce(&mut BytesMut)) {
    let start = buf.len();
    write_constructed(buf, tag, f);
    buf[start] &= !0x20;
}

/// `TimeInformation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeInformation {
    /// `timeIfNoTariffSwitch [0]`: 100 ms units since answer (0 if never answered).
    NoTariffSwitch(u32),
    /// `timeIfTariffSwitch [1]`.
    TariffSwitch {
        /// 100 ms units since the last tariff switch.
        time_since_tariff_switch: u32,
        /// 100 ms units from answer to the tariff switch.
        tariff_switch_interval: Option<u32>,
    },
}

impl TimeInformation {
    /// Total time since answer, 100 ms units.
    pub fn total(&self) -> u32 {
        match *self {
            TimeInformation::NoTariffSwitch(t) => t,
            TimeInformation::TariffSwitch {
                time_since_tariff_switch,
                tariff_switch_interval,
            } => time_since_tariff_switch.saturating_add(tariff_switch_interval.unwrap_or(0)),
        }
    }
}

/// `timeDurationChargingResult`: one ApplyChargingReport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeDurationChargingResult<'a> {
    /// `partyToCharge [0] ReceivingSideID`.
    pub party_to_charge: LegType,
    /// Elapsed time.
    pub time_information: TimeInformation,
    /// `legActive [2]` (v2 `callActive`), DEFAULT TRUE.
    pub leg_active: bool,
    /// `callLegReleasedAtTcpExpiry [3]`.
    pub call_leg_released_at_tcp_expiry: bool,
    /// `extensions [4]`, raw contents.
    pub extensions: Option<&'a [u8]>,
}

impl<'a> TimeDurationChargingResult<'a> {
    fn decode(b: &'a [u8]) -> CapResult<Self> {
        const W: &str = "CAMEL-CallResult";
        let t = single(b, W)?;
        if ctx(&t) != Some(0) {
            return Err(CapError::UnexpectedDataValue(W));
        }
        let mut r = reader(t, W)?;
        let mut party = None;
        let mut time = None;
        let mut v = TimeDurationChargingResult {
            party_to_charge: LegType::LEG1,
            time_information: TimeInformation::NoTariffSwitch(0),
            leg_active: true,
            call_leg_released_at_tcp_expiry: false,
            extensions: None,
        };
        while let Some(f) = next(&mut r, W)? {
            match ctx(&f) {
                Some(0) => party = Some(LegId::decode(f, "partyToCharge")?.leg()),
                Some(1) => {
                    let ti = explicit(f, "timeInformation")?;
                    time = Some(match ctx(&ti) {
                        Some(0) => TimeInformation::NoTariffSwitch(uint(
                            ti,
                            "timeIfNoTariffSwitch",
                            0,
                            864_000,
                        )?),
                        Some(1) => {
                            let mut s = reader(ti, W)?;
                            let since = s
                                .expect(Tag::ctx(0), "timeSinceTariffSwitch")
                                .map_err(ber(W))?;
                            let interval = s.optional(Tag::ctx(1)).map_err(ber(W))?;
                            s.skip_rest().map_err(ber(W))?;
                            TimeInformation::TariffSwitch {
                                time_since_tariff_switch: uint(
                                    since,
                                    "timeSinceTariffSwitch",
                                    0,
                                    864_000,
                                )?,
                                tariff_switch_interval: interval
                                    .map(|i| uint(i, "tariffSwitchInterval", 1, 864_000))
                                    .transpose()?,
                            }
                        }
                        _ => return Err(CapError::UnexpectedDataValue("timeInformation")),
                    });
                }
                Some(2) => v.leg_active = boolean(f, W)?,
                Some(3) => {
                    null(f, W)?;
                    v.call_leg_released_at_tcp_expiry = true;
                }
                Some(4) => v.extensions = Some(contents(f, W)?),
                _ => {}
            }
        }
        v.party_to_charge = party.ok_or(CapError::MissingParameter("partyToCharge"))?;
        v.time_information = time.ok_or(CapError::MissingParameter("timeInformation"))?;
        Ok(v)
    }

    fn encode(&self, buf: &mut BytesMut) {
        write_constructed(buf, Tag::ctx_cons(0), |b| {
            LegId::Receiving(self.party_to_charge).encode(0, b);
            write_constructed(b, Tag::ctx_cons(1), |b| match self.time_information {
                TimeInformation::NoTariffSwitch(t) => write_integer(b, Tag::ctx(0), i64::from(t)),
                TimeInformation::TariffSwitch {
                    time_since_tariff_switch,
                    tariff_switch_interval,
                } => write_constructed(b, Tag::ctx_cons(1), |b| {
                    write_integer(b, Tag::ctx(0), i64::from(time_since_tariff_switch));
                    if let Some(i) = tariff_switch_interval {
                        write_integer(b, Tag::ctx(1), i64::from(i));
                    }
                }),
            });
            write_bool(b, Tag::ctx(2), self.leg_active);
            if self.call_leg_released_at_tcp_expiry {
                write_tlv(b, Tag::ctx(3), &[]);
            }
            put_opt_cons(b, 4, self.extensions);
        });
    }
}

/// `CallResult`: the CAMEL type, or raw network-specific contents (INAP CS-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallResult<'a> {
    /// `timeDurationChargingResult`.
    TimeDuration(TimeDurationChargingResult<'a>),
    /// Contents that are not the CAMEL type.
    Raw(&'a [u8]),
}

/// ApplyChargingReportArg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApplyChargingReport<'a> {
    /// The report.
    pub call_result: CallResult<'a>,
}

impl<'a> ApplyChargingReport<'a> {
    /// Decode the argument (an OCTET STRING, universal tag 4).
    pub fn decode(dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "ApplyChargingReportArg";
        let t = required(param, W)?;
        if !t.tag.same_number(Tag::OCTET_STRING) {
            return Err(CapError::Malformed {
                what: W,
                source: strowger_ber::BerError::UnexpectedTag {
                    expected: Tag::OCTET_STRING,
                    found: t.tag,
                },
            });
        }
        let raw = octets(t, W)?;
        let call_result = match TimeDurationChargingResult::decode(raw) {
            Ok(r) => CallResult::TimeDuration(r),
            Err(_) if dialect == Dialect::InapCs1 => CallResult::Raw(raw),
            Err(e) => return Err(e),
        };
        Ok(ApplyChargingReport { call_result })
    }

    /// Encode the argument.
    pub fn encode(&self, _dialect: Dialect, buf: &mut BytesMut) {
        match &self.call_result {
            CallResult::TimeDuration(r) => octet_wrapped(buf, Tag::OCTET_STRING, |b| r.encode(b)),
            CallResult::Raw(raw) => write_tlv(buf, Tag::OCTET_STRING, raw),
        }
    }
}

/// `CAMEL-FCIBillingChargingCharacteristics fCIBCCCAMELsequence1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FciCamel<'a> {
    /// `freeFormatData [0]`: written into the MSC's call record.
    pub free_format_data: &'a [u8],
    /// `partyToCharge [1]` (DEFAULT leg1, which is left out when encoding).
    pub party_to_charge: LegId,
    /// `appendFreeFormatData [2]` (v3+): append instead of overwrite.
    pub append: bool,
}

/// `FCIBillingChargingCharacteristics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fci<'a> {
    /// The CAMEL type.
    Camel(FciCamel<'a>),
    /// Network-specific contents (INAP CS-1).
    Raw(&'a [u8]),
}

/// FurnishChargingInformationArg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FurnishChargingInformation<'a> {
    /// The billing characteristics.
    pub fci: Fci<'a>,
}

impl<'a> FurnishChargingInformation<'a> {
    /// Decode the argument (an OCTET STRING, universal tag 4).
    pub fn decode(dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "FurnishChargingInformationArg";
        let t = required(param, W)?;
        if !t.tag.same_number(Tag::OCTET_STRING) {
            return Err(CapError::UnexpectedDataValue(W));
        }
        let raw = octets(t, W)?;
        let camel = || -> CapResult<FciCamel<'a>> {
            let c = single(raw, W)?;
            if ctx(&c) != Some(0) {
                return Err(CapError::UnexpectedDataValue(W));
            }
            let mut r = reader(c, W)?;
            let data = octets(r.expect(Tag::ctx(0), "freeFormatData").map_err(ber(W))?, W)?;
            let mut v = FciCamel {
                free_format_data: data,
                party_to_charge: LegId::Sending(LegType::LEG1),
                append: false,
            };
            while let Some(f) = next(&mut r, W)? {
                match ctx(&f) {
                    Some(1) => v.party_to_charge = LegId::decode(f, "partyToCharge")?,
                    // appendFreeFormatData is v3+ (not encoded in v2).
                    Some(2) if dialect != Dialect::CapV2 => v.append = int(f, W)? == 1,
                    _ => {}
                }
            }
            Ok(v)
        };
        let fci = match camel() {
            Ok(c) => Fci::Camel(c),
            Err(_) if dialect == Dialect::InapCs1 => Fci::Raw(raw),
            Err(e) => return Err(e),
        };
        Ok(FurnishChargingInformation { fci })
    }

    /// Encode the argument.
    pub fn encode(&self, dialect: Dialect, buf: &mut BytesMut) {
        match &self.fci {
            Fci::Camel(c) => octet_wrapped(buf, Tag::OCTET_STRING, |b| {
                write_constructed(b, Tag::ctx_cons(0), |b| {
                    write_tlv(b, Tag::ctx(0), c.free_format_data);
                    if c.party_to_charge != LegId::Sending(LegType::LEG1) {
                        c.party_to_charge.encode(1, b);
                    }
                    if c.append && dialect != Dialect::CapV2 {
                        write_enumerated(b, Tag::ctx(2), 1);
                    }
                });
            }),
            Fci::Raw(raw) => write_tlv(buf, Tag::OCTET_STRING, raw),
        }
    }
}

/// SendChargingInformationArg (advice of charge towards the mobile).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendChargingInformation<'a> {
    /// `sCIBillingChargingCharacteristics [0]`: BER of CAMEL-SCIBillingChargingCharacteristics.
    pub sci_billing_charging_characteristics: &'a [u8],
    /// `partyToCharge [1]`.
    pub party_to_charge: LegId,
    /// `extensions [2]`, raw contents.
    pub extensions: Option<&'a [u8]>,
}

impl<'a> SendChargingInformation<'a> {
    /// Decode the argument.
    pub fn decode(_dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "SendChargingInformationArg";
        let mut r = sequence(param, W)?;
        let (mut sci, mut party, mut extensions) = (None, None, None);
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(0) => sci = Some(octets(t, W)?),
                Some(1) => party = Some(LegId::decode(t, "partyToCharge")?),
                Some(2) => extensions = Some(contents(t, W)?),
                _ => {}
            }
        }
        Ok(SendChargingInformation {
            sci_billing_charging_characteristics: sci.ok_or(CapError::MissingParameter(
                "sCIBillingChargingCharacteristics",
            ))?,
            party_to_charge: party.ok_or(CapError::MissingParameter("partyToCharge"))?,
            extensions,
        })
    }

    /// Encode the argument.
    pub fn encode(&self, _dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            write_tlv(b, Tag::ctx(0), self.sci_billing_charging_characteristics);
            self.party_to_charge.encode(1, b);
            put_opt_cons(b, 2, self.extensions);
        });
    }
}

open_enum! {
    /// `RequestedInformationType`.
    RequestedInformationType {
        CALL_ATTEMPT_ELAPSED_TIME = 0, "callAttemptElapsedTime";
        CALL_STOP_TIME = 1, "callStopTime";
        CALL_CONNECTED_ELAPSED_TIME = 2, "callConnectedElapsedTime";
        CALLED_ADDRESS = 3, "calledAddress";
        RELEASE_CAUSE = 30, "releaseCause";
    }
}

impl<'a> ListItem<'a> for RequestedInformationType {
    const WHAT: &'static str = "RequestedInformationType";
    fn decode_item(t: Tlv<'a>) -> CapResult<Self> {
        let t = t.expect(Tag::ENUMERATED).map_err(ber(Self::WHAT))?;
        Ok(RequestedInformationType(int(t, Self::WHAT)?))
    }
    fn encode_item(&self, buf: &mut BytesMut) {
        write_enumerated(buf, Tag::ENUMERATED, self.0);
    }
}

/// CallInformationRequestArg.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CallInformationRequest<'a> {
    /// What to report.
    pub requested_information_types: List<'a, RequestedInformationType>,
    /// `extensions [2]`, raw contents.
    pub extensions: Option<&'a [u8]>,
    /// `legID [3]` (DEFAULT sendingSideID leg2).
    pub leg_id: LegId,
}

impl<'a> CallInformationRequest<'a> {
    /// Decode the argument.
    pub fn decode(_dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "CallInformationRequestArg";
        let mut r = sequence(param, W)?;
        let (mut types, mut extensions, mut leg) = (None, None, LegId::Sending(LegType::LEG2));
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(0) => types = Some(List::decode(contents(t, W)?, 1)?),
                Some(2) => extensions = Some(contents(t, W)?),
                Some(3) => leg = LegId::decode(t, "legID")?,
                _ => {}
            }
        }
        Ok(CallInformationRequest {
            requested_information_types: types
                .ok_or(CapError::MissingParameter("requestedInformationTypeList"))?,
            extensions,
            leg_id: leg,
        })
    }

    /// Encode the argument.
    pub fn encode(&self, _dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            write_constructed(b, Tag::ctx_cons(0), |b| {
                self.requested_information_types.encode_items(b)
            });
            put_opt_cons(b, 2, self.extensions);
            self.leg_id.encode(3, b);
        });
    }
}

/// `RequestedInformationValue`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestedInformationValue<'a> {
    /// `callAttemptElapsedTimeValue [0]`, seconds.
    CallAttemptElapsedTime(u32),
    /// `callStopTimeValue [1]`, DateAndTime (7 octets BCD).
    CallStopTime(&'a [u8]),
    /// `callConnectedElapsedTimeValue [2]`, 100 ms units.
    CallConnectedElapsedTime(u32),
    /// `releaseCauseValue [30]`, Q.850 Cause.
    ReleaseCause(&'a [u8]),
}

/// `RequestedInformation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestedInformation<'a> {
    /// The type.
    pub info_type: RequestedInformationType,
    /// The value.
    pub value: RequestedInformationValue<'a>,
}

impl<'a> ListItem<'a> for RequestedInformation<'a> {
    const WHAT: &'static str = "RequestedInformation";
    fn decode_item(t: Tlv<'a>) -> CapResult<Self> {
        const W: &str = "RequestedInformation";
        let mut r = reader(t.expect(Tag::SEQUENCE).map_err(ber(W))?, W)?;
        let ty = int(
            r.expect(Tag::ctx(0), "requestedInformationType")
                .map_err(ber(W))?,
            W,
        )?;
        let v = explicit(
            r.expect(Tag::ctx_cons(1), "requestedInformationValue")
                .map_err(ber(W))?,
            W,
        )?;
        r.skip_rest().map_err(ber(W))?;
        let value = match ctx(&v) {
            Some(0) => RequestedInformationValue::CallAttemptElapsedTime(uint(v, W, 0, 255)?),
            Some(1) => RequestedInformationValue::CallStopTime(octets(v, W)?),
            Some(2) => {
                RequestedInformationValue::CallConnectedElapsedTime(uint(v, W, 0, 2_147_483_647)?)
            }
            Some(30) => RequestedInformationValue::ReleaseCause(octets(v, W)?),
            _ => return Err(CapError::UnexpectedDataValue("requestedInformationValue")),
        };
        Ok(RequestedInformation {
            info_type: RequestedInformationType(ty),
            value,
        })
    }
    fn encode_item(&self, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            write_enumerated(b, Tag::ctx(0), self.info_type.0);
            write_constructed(b, Tag::ctx_cons(1), |b| match self.value {
                RequestedInformationValue::CallAttemptElapsedTime(v) => {
                    write_integer(b, Tag::ctx(0), i64::from(v))
                }
                RequestedInformationValue::CallStopTime(v) => write_tlv(b, Tag::ctx(1), v),
                RequestedInformationValue::CallConnectedElapsedTime(v) => {
                    write_integer(b, Tag::ctx(2), i64::from(v))
                }
                RequestedInformationValue::ReleaseCause(v) => write_tlv(b, Tag::ctx(30), v),
            });
        });
    }
}

/// CallInformationReportArg.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CallInformationReport<'a> {
    /// The reported values.
    pub requested_information: List<'a, RequestedInformation<'a>>,
    /// `extensions [2]`, raw contents.
    pub extensions: Option<&'a [u8]>,
    /// `legID [3] ReceivingSideID` (DEFAULT leg2).
    pub leg_id: LegType,
}

impl<'a> CallInformationReport<'a> {
    /// Decode the argument.
    pub fn decode(_dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "CallInformationReportArg";
        let mut r = sequence(param, W)?;
        let (mut list, mut extensions, mut leg) = (None, None, LegType::LEG2);
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(0) => list = Some(List::decode(contents(t, W)?, 1)?),
                Some(2) => extensions = Some(contents(t, W)?),
                Some(3) => leg = LegId::decode(t, "legID")?.leg(),
                _ => {}
            }
        }
        Ok(CallInformationReport {
            requested_information: list
                .ok_or(CapError::MissingParameter("requestedInformationList"))?,
            extensions,
            leg_id: leg,
        })
    }

    /// Encode the argument.
    pub fn encode(&self, _dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            write_constructed(b, Tag::ctx_cons(0), |b| {
                self.requested_information.encode_items(b)
            });
            put_opt_cons(b, 2, self.extensions);
            LegId::Receiving(self.leg_id).encode(3, b);
        });
    }
}
