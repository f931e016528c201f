//! The VPN private numbering plan and call screening (DESIGN §6, claim 1A "VPN service").
//!
//! Given the caller's group and the dialled digits (with their nature of address, Q.763 §3.9):
//! - an extension of the group's length → that member's public number (on-net);
//! - the off-net access prefix + a public number (national or international form) → that
//!   number in E.164; on-net again if it is a member of the same group;
//! - a public number dialled directly (national/international form, or a NoA international /
//!   national address) → E.164; on-net if it is a member of the same group.
//!
//! Then screening: an inactive callee, the caller's class of service, the caller's blocked
//! prefixes, an unrated destination. The result is a [`Destination`] in E.164 (nature
//! international) with its tariff class, or a [`ScreeningRefusal`].

use serde::{Deserialize, Serialize};

use std::sync::Arc;

use super::provisioning::{ClassOfService, GroupEntry, Member, Provisioning};
use super::rating::{Rate, Tariff};

/// Nature of address of a number (Q.763 §3.9, 24.008 type of number, simplified).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nature {
    /// Unknown / as dialled: the numbering plan decides.
    #[default]
    Unknown,
    /// Subscriber number (no area code): treated like unknown.
    Subscriber,
    /// National significant number (no trunk prefix).
    National,
    /// International number (country code first, no prefix).
    International,
}

/// Digits with their nature of address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Number {
    /// The digits (0–9 only; anything else makes the number invalid).
    pub digits: Digits,
    /// Nature of address.
    pub nature: Nature,
}

impl Number {
    /// A number.
    pub fn new(digits: &str, nature: Nature) -> Self {
        Number {
            digits: Digits::new(digits),
            nature,
        }
    }
}

/// A digit string as a call keeps it: inline up to [`Digits::INLINE`] bytes (every E.164
/// number and nearly every dialled string), on the heap beyond. A live call holds several
/// numbers; inline they cost it no allocation. Serialized as a string.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Digits(DigitsRepr);

// Always the inline form when it fits, so the derived equality and hash compare contents.
#[derive(Clone, PartialEq, Eq, Hash)]
enum DigitsRepr {
    Inline { len: u8, buf: [u8; Digits::INLINE] },
    Heap(Box<str>),
}

impl Digits {
    /// The longest string kept inline (the type is as large as a `String`).
    pub const INLINE: usize = 22;

    /// Keep `s`.
    pub fn new(s: &str) -> Self {
        let b = s.as_bytes();
        match u8::try_from(b.len()) {
            Ok(len) if b.len() <= Self::INLINE => {
                let mut buf = [0; Self::INLINE];
                buf[..b.len()].copy_from_slice(b);
                Digits(DigitsRepr::Inline { len, buf })
            }
            _ => Digits(DigitsRepr::Heap(s.into())),
        }
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // A prefix of a `str` cut at its end: always UTF-8.
            DigitsRepr::Inline { len, buf } => {
                std::str::from_utf8(&buf[..usize::from(*len)]).unwrap_or_default()
            }
            DigitsRepr::Heap(s) => s,
        }
    }
}

impl Default for Digits {
    fn default() -> Self {
        Digits::new("")
    }
}

impl std::ops::Deref for Digits {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for Digits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Digits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Digits {
    fn from(s: &str) -> Self {
        Digits::new(s)
    }
}

impl From<String> for Digits {
    fn from(s: String) -> Self {
        Digits::new(&s)
    }
}

impl Serialize for Digits {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Digits {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Digits::from)
    }
}

impl PartialEq<str> for Digits {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Digits {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Where a call goes, after translation and screening.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// Destination in E.164 digits (country code first).
    pub digits: Digits,
    /// Nature of address of `digits` (always international once resolved).
    pub nature: Nature,
    /// Between two members of the same group.
    pub on_net: bool,
    /// The callee member's `(group index, member index)`, when on-net.
    pub callee: Option<(u32, u32)>,
    /// Tariff used.
    pub tariff: Arc<Tariff>,
    /// Index of the destination class (tariff zone) in `tariff`'s classes.
    pub class_index: u32,
    /// Its rate.
    pub rate: Rate,
}

impl Destination {
    /// The tariff's id.
    pub fn tariff_id(&self) -> &str {
        &self.tariff.id
    }

    /// The name of the destination class (tariff zone) within the tariff.
    pub fn class(&self) -> &str {
        usize::try_from(self.class_index)
            .ok()
            .and_then(|i| self.tariff.classes.get(i))
            .map_or("", |c| c.name.as_str())
    }
}

/// Why a dialled number was refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ScreeningRefusal {
    /// Digits that are not digits, or nothing.
    InvalidNumber,
    /// An extension-length number that is no member's extension.
    UnknownExtension,
    /// The callee member is inactive.
    CalleeInactive,
    /// The caller may only call members.
    OffNetBarred,
    /// The caller may not call abroad.
    InternationalBarred,
    /// The destination starts with one of the caller's blocked prefixes.
    BlockedPrefix(String),
    /// The tariff has no class for this destination.
    NoTariff,
}

impl ScreeningRefusal {
    /// A short snake_case label for CDRs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            ScreeningRefusal::InvalidNumber => "invalid_number",
            ScreeningRefusal::UnknownExtension => "unknown_extension",
            ScreeningRefusal::CalleeInactive => "callee_inactive",
            ScreeningRefusal::OffNetBarred => "off_net_barred",
            ScreeningRefusal::InternationalBarred => "international_barred",
            ScreeningRefusal::BlockedPrefix(_) => "blocked_prefix",
            ScreeningRefusal::NoTariff => "no_tariff",
        }
    }
}

/// Normalise a number as a public number of `group`'s country: prefixes stripped, E.164 out.
pub fn to_e164(group: &GroupEntry, n: &Number) -> Option<String> {
    let d = n.digits.as_str();
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let g = &group.group;
    let e164 = match n.nature {
        Nature::International => d.to_string(),
        Nature::National => format!("{}{}", g.country_code, d),
        Nature::Unknown | Nature::Subscriber => {
            if let Some(rest) = d.strip_prefix(g.international_prefix.as_str()) {
                rest.to_string()
            } else if let Some(rest) = (!g.national_prefix.is_empty())
                .then(|| d.strip_prefix(g.national_prefix.as_str()))
                .flatten()
            {
                format!("{}{}", g.country_code, rest)
            } else {
                // No prefix: taken as already international (how most SSPs pass E.164).
                d.to_string()
            }
        }
    };
    (4..=15).contains(&e164.len()).then_some(e164)
}

/// Translate and screen what `caller` (a member of group `group_index`) dialled.
pub fn resolve(
    prov: &Provisioning,
    group_index: usize,
    caller: &Member,
    dialled: &Number,
) -> Result<Destination, ScreeningRefusal> {
    let group = prov
        .groups()
        .get(group_index)
        .ok_or(ScreeningRefusal::InvalidNumber)?;
    let d = dialled.digits.as_str();
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ScreeningRefusal::InvalidNumber);
    }
    let private_plan = matches!(dialled.nature, Nature::Unknown | Nature::Subscriber);

    // 1. An extension.
    if private_plan && d.len() == group.group.extension_length {
        let m = prov
            .member_by_extension(group_index, d)
            .ok_or(ScreeningRefusal::UnknownExtension)?;
        return screen_on_net(group, group_index, m.member_index, m.member, caller);
    }

    // 2. Access prefix + public number, or 3. a public number directly.
    let public = match (&group.group.offnet_prefix, private_plan) {
        (Some(p), true) if d.starts_with(p.as_str()) && d.len() > p.len() => {
            Number::new(&d[p.len()..], Nature::Unknown)
        }
        _ => dialled.clone(),
    };
    let e164 = to_e164(group, &public).ok_or(ScreeningRefusal::InvalidNumber)?;

    if let Some(m) = prov.member_by_number(&e164) {
        if m.group_index == group_index {
            return screen_on_net(group, group_index, m.member_index, m.member, caller);
        }
    }
    screen_off_net(group, caller, e164)
}

fn screen_on_net(
    group: &GroupEntry,
    group_index: usize,
    member_index: usize,
    callee: &Member,
    caller: &Member,
) -> Result<Destination, ScreeningRefusal> {
    if !callee.active {
        return Err(ScreeningRefusal::CalleeInactive);
    }
    blocked(caller, &callee.number)?;
    let (class_index, rate) = classify(&group.on_net_tariff, &callee.number)?;
    Ok(Destination {
        digits: Digits::new(&callee.number),
        nature: Nature::International,
        on_net: true,
        callee: u32::try_from(group_index)
            .ok()
            .zip(u32::try_from(member_index).ok()),
        tariff: group.on_net_tariff.clone(),
        class_index,
        rate,
    })
}

/// The destination class of `e164` in `tariff`: its index and its rate.
fn classify(tariff: &Tariff, e164: &str) -> Result<(u32, Rate), ScreeningRefusal> {
    tariff
        .classify_index(e164)
        .and_then(|i| Some((u32::try_from(i).ok()?, tariff.classes.get(i)?.rate)))
        .ok_or(ScreeningRefusal::NoTariff)
}

fn screen_off_net(
    group: &GroupEntry,
    caller: &Member,
    e164: String,
) -> Result<Destination, ScreeningRefusal> {
    match caller.class_of_service {
        ClassOfService::OnNetOnly => return Err(ScreeningRefusal::OffNetBarred),
        ClassOfService::National if !e164.starts_with(group.group.country_code.as_str()) => {
            return Err(ScreeningRefusal::InternationalBarred)
        }
        _ => {}
    }
    blocked(caller, &e164)?;
    let (class_index, rate) = classify(&group.off_net_tariff, &e164)?;
    Ok(Destination {
        digits: Digits::new(&e164),
        nature: Nature::International,
        on_net: false,
        callee: None,
        tariff: group.off_net_tariff.clone(),
        class_index,
        rate,
    })
}

fn blocked(caller: &Member, e164: &str) -> Result<(), ScreeningRefusal> {
    match caller
        .blocked_prefixes
        .iter()
        .find(|p| e164.starts_with(p.as_str()))
    {
        Some(p) => Err(ScreeningRefusal::BlockedPrefix(p.clone())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::provisioning::tests::EXAMPLE;

    fn prov() -> Provisioning {
        Provisioning::from_toml_str(EXAMPLE).unwrap()
    }

    fn run(
        p: &Provisioning,
        caller: &str,
        dialled: &str,
        nature: Nature,
    ) -> Result<Destination, ScreeningRefusal> {
        let m = p.member_by_number(caller).unwrap();
        resolve(p, m.group_index, m.member, &Number::new(dialled, nature))
    }

    // Numbers below are from examples/provisioning.toml (group acme-us: cc 1, ext 4 digits,
    // access prefix 9, national prefix 1, international 011; acme-uk: cc 44, ext 3, prefix 9).
    const ALICE: &str = "12125550101"; // international CoS, blocks 1900
    const CAROL: &str = "12125550103"; // on-net only
    const DAVE: &str = "12125550104"; // national only

    #[test]
    fn translation_table() {
        let p = prov();
        let cases: &[(&str, &str, Nature, &str, bool)] = &[
            // extension → member's public number
            (ALICE, "0102", Nature::Unknown, "12125550102", true),
            // access prefix + national number of a member → on-net
            (ALICE, "912125550102", Nature::Unknown, "12125550102", true),
            // member's public number dialled directly (international NoA)
            (
                ALICE,
                "12125550102",
                Nature::International,
                "12125550102",
                true,
            ),
            // access prefix + national (trunk prefix 1) off-net
            (ALICE, "914155550000", Nature::Unknown, "14155550000", false),
            // access prefix + international prefix 011
            (
                ALICE,
                "9011442079460000",
                Nature::Unknown,
                "442079460000",
                false,
            ),
            // national NoA
            (ALICE, "4155550000", Nature::National, "14155550000", false),
            // the UK group's member dialled from the US group: public, off-net
            (
                ALICE,
                "9011442071230001",
                Nature::Unknown,
                "442071230001",
                false,
            ),
        ];
        for &(caller, d, n, want, on_net) in cases {
            let got = run(&p, caller, d, n).unwrap_or_else(|e| panic!("{d}: {e:?}"));
            assert_eq!(got.digits, want, "{d}");
            assert_eq!(got.on_net, on_net, "{d}");
            assert_eq!(got.nature, Nature::International);
        }
    }

    #[test]
    fn digits_inline_and_on_the_heap() {
        assert_eq!(size_of::<Digits>(), size_of::<String>());
        for s in [
            "",
            "12125550101",
            "1234567890123456789012",
            "12345678901234567890123",
        ] {
            let d = Digits::new(s);
            assert_eq!(d, s);
            assert_eq!(d.to_string(), s);
            assert_eq!(format!("{d:?}"), format!("{s:?}"));
            assert_eq!(
                matches!(d.0, DigitsRepr::Inline { .. }),
                s.len() <= Digits::INLINE
            );
        }
        assert_ne!(Digits::new("12"), Digits::new("123"));
        assert_eq!(Digits::new("9ä"), "9ä");
    }

    #[test]
    fn tariff_zones() {
        let p = prov();
        let z = |d: &str| {
            run(&p, ALICE, d, Nature::International)
                .unwrap()
                .class()
                .to_string()
        };
        assert_eq!(z("12125550102"), "on_net");
        assert_eq!(z("12125551234"), "national_fixed");
        assert_eq!(z("442079460000"), "international_zone1");
        assert_eq!(z("8613800000000"), "international_zone2");
    }

    #[test]
    fn screening_table() {
        let p = prov();
        use ScreeningRefusal::*;
        let cases: &[(&str, &str, Nature, ScreeningRefusal)] = &[
            (ALICE, "0999", Nature::Unknown, UnknownExtension),
            (
                ALICE,
                "91900555000",
                Nature::Unknown,
                BlockedPrefix("1900".into()),
            ),
            (ALICE, "12a4", Nature::Unknown, InvalidNumber),
            (ALICE, "", Nature::Unknown, InvalidNumber),
            (ALICE, "9", Nature::Unknown, InvalidNumber),
            (CAROL, "914155550000", Nature::Unknown, OffNetBarred),
            (
                DAVE,
                "9011442079460000",
                Nature::Unknown,
                InternationalBarred,
            ),
            (ALICE, "0109", Nature::Unknown, CalleeInactive),
        ];
        for (caller, d, n, want) in cases {
            assert_eq!(run(&p, caller, d, *n).unwrap_err(), *want, "{caller} {d}");
        }
        // Allowed: on-net-only member calling a member; national member calling nationally.
        assert!(run(&p, CAROL, "0101", Nature::Unknown).unwrap().on_net);
        assert!(
            !run(&p, DAVE, "914155550000", Nature::Unknown)
                .unwrap()
                .on_net
        );
    }
}
