//! Rating: tariffs, destination classes by longest prefix, billing increments (DESIGN §6).
//!
//! Pure integer arithmetic on money ([`Money`], minor units) and on wire time (100 ms units, the
//! unit of CAP `maxCallPeriodDuration` and `timeIfNoTariffSwitch`, TS 29.078 §11.5). Every
//! function is total: no panics, no overflow (checked / saturating arithmetic, `i128` in between).
//!
//! Charging is cumulative: the charge for a period is `cost(total elapsed) − already charged`, so
//! rounding happens once over the whole call and never compounds per slice.

use serde::{Deserialize, Serialize};

use crate::prepaid::Money;

/// The longest `maxCallPeriodDuration` CAP allows in one ApplyCharging (24 h in 100 ms units).
pub const MAX_CALL_PERIOD_100MS: u64 = 864_000;

/// One destination class's price: per minute, setup, billing increments.
///
/// Increments are `first_interval / next_interval` seconds: 60/60 bills whole minutes, 30/6 a
/// first half minute then 6 s steps, 1/1 per second. A started interval is billed in full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Price of one minute, minor units.
    pub price_per_minute: Money,
    /// Charged once when the call is answered, minor units.
    #[serde(default)]
    pub setup: Money,
    /// First billing interval, seconds (≥ 1).
    pub first_interval: u32,
    /// Each following billing interval, seconds (≥ 1).
    pub next_interval: u32,
}

impl Rate {
    /// Why this rate is unusable, if it is.
    pub fn problem(&self) -> Option<&'static str> {
        if self.price_per_minute < 0 {
            Some("price_per_minute is negative")
        } else if self.setup < 0 {
            Some("setup is negative")
        } else if self.first_interval == 0 {
            Some("first_interval must be at least 1 second")
        } else if self.next_interval == 0 {
            Some("next_interval must be at least 1 second")
        } else {
            None
        }
    }

    fn first(&self) -> u64 {
        u64::from(self.first_interval.max(1))
    }

    fn next(&self) -> u64 {
        u64::from(self.next_interval.max(1))
    }

    /// Seconds billed for `secs` seconds of conversation: 0 for 0, else rounded up to the
    /// increment grid (first interval, then next intervals).
    pub fn billed_seconds(&self, secs: u64) -> u64 {
        let (first, next) = (self.first(), self.next());
        if secs == 0 {
            0
        } else if secs <= first {
            first
        } else {
            let rest = secs - first;
            let steps = rest / next + u64::from(rest % next != 0);
            first.saturating_add(steps.saturating_mul(next))
        }
    }

    /// Price of `billed` seconds at the per-minute price, rounded up to a minor unit (no setup).
    pub fn price_of_seconds(&self, billed: u64) -> Money {
        let ppm = i128::from(self.price_per_minute.max(0));
        let num = i128::from(billed) * ppm;
        let price = num / 60 + i128::from(num % 60 != 0);
        clamp_money(price)
    }

    /// What a call answered for `elapsed_100ms` costs: setup plus the billed time. An
    /// unanswered call costs nothing. A part of a second counts as a second.
    pub fn cost(&self, elapsed_100ms: u64, answered: bool) -> Money {
        if !answered {
            return 0;
        }
        let secs = elapsed_100ms / 10 + u64::from(elapsed_100ms % 10 != 0);
        self.setup
            .max(0)
            .saturating_add(self.price_of_seconds(self.billed_seconds(secs)))
    }

    /// The cost of the first billing unit (setup + first interval): the least balance that lets
    /// a prepaid call start, used as `min` in Authenticate and ApplyFee.
    pub fn first_unit_cost(&self) -> Money {
        self.setup
            .max(0)
            .saturating_add(self.price_of_seconds(self.first()))
    }

    /// The charge for the period ending at `elapsed_100ms` (cumulative since answer), given what
    /// was already charged: `cost(elapsed) − charged`, never negative.
    pub fn period_charge(&self, elapsed_100ms: u64, answered: bool, charged: Money) -> Money {
        self.cost(elapsed_100ms, answered)
            .saturating_sub(charged)
            .max(0)
    }

    /// The cost of one more billing unit after `elapsed_100ms` (the first unit, with setup, at
    /// 0): the least useful grant for the next slice.
    pub fn next_unit_cost(&self, elapsed_100ms: u64) -> Money {
        if elapsed_100ms == 0 {
            return self.first_unit_cost();
        }
        let secs = elapsed_100ms / 10 + u64::from(elapsed_100ms % 10 != 0);
        let billed = self.billed_seconds(secs);
        let step = if billed == 0 {
            self.first()
        } else {
            self.next()
        };
        self.price_of_seconds(billed.saturating_add(step))
            .saturating_sub(self.price_of_seconds(billed))
    }

    /// What a slice of `slice_seconds` more after `elapsed_100ms` would cost (setup included at
    /// 0), at least [`Rate::next_unit_cost`]: the `want` of ApplyFee / Reapply.
    pub fn slice_want(&self, elapsed_100ms: u64, slice_seconds: u32) -> Money {
        let end = elapsed_100ms.saturating_add(u64::from(slice_seconds).saturating_mul(10));
        let want = self
            .cost(end, true)
            .saturating_sub(self.cost(elapsed_100ms, elapsed_100ms > 0));
        want.max(self.next_unit_cost(elapsed_100ms))
    }

    /// The longest additional time (100 ms units) that `grant` buys after `elapsed_100ms`, when
    /// `charged` has already been charged, such that the call's cumulative cost at the end of
    /// that time stays within `charged + grant`. The end is aligned to the increment grid, so the
    /// granted ApplyCharging time never costs more than was granted.
    ///
    /// Time already paid for (the rest of a started increment) is included. If the charged
    /// amount is below `cost(elapsed)` (time given away, e.g. between a report and the next
    /// ApplyCharging) the budget starts from `cost(elapsed)`: that time is not charged twice.
    /// Free rates return `u64::MAX`; callers cap at [`MAX_CALL_PERIOD_100MS`].
    pub fn time_for_money(&self, elapsed_100ms: u64, charged: Money, grant: Money) -> u64 {
        let baseline = charged.max(self.cost(elapsed_100ms, elapsed_100ms > 0));
        let budget = i128::from(baseline) + i128::from(grant.max(0));
        let avail = budget - i128::from(self.setup.max(0));
        if avail < 0 {
            return 0;
        }
        let ppm = i128::from(self.price_per_minute.max(0));
        if ppm == 0 {
            return u64::MAX;
        }
        let max_secs = avail.saturating_mul(60) / ppm;
        let max_secs = u64::try_from(max_secs).unwrap_or(u64::MAX);
        let (first, next) = (self.first(), self.next());
        let billed = if max_secs < first {
            0
        } else {
            first.saturating_add((max_secs - first) / next * next)
        };
        billed.saturating_mul(10).saturating_sub(elapsed_100ms)
    }
}

fn clamp_money(v: i128) -> Money {
    Money::try_from(v).unwrap_or(if v < 0 { Money::MIN } else { Money::MAX })
}

/// A destination class of a tariff: the prefixes (E.164 digits, longest wins) and the price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestClass {
    /// Name of the class, e.g. `on_net`, `national_fixed`, `international_zone1`.
    pub name: String,
    /// E.164 digit prefixes (with country code). `""` matches everything.
    pub prefixes: Vec<String>,
    /// The price.
    #[serde(flatten)]
    pub rate: Rate,
}

/// A tariff: destination classes by longest prefix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tariff {
    /// Tariff id, referenced by groups and members.
    pub id: String,
    /// Its destination classes.
    #[serde(rename = "class", default)]
    pub classes: Vec<DestClass>,
}

impl Tariff {
    /// The class whose prefix is the longest prefix of `e164` (international digits).
    pub fn classify(&self, e164: &str) -> Option<&DestClass> {
        self.classify_index(e164).and_then(|i| self.classes.get(i))
    }

    /// [`classify`](Self::classify), as the index of the class in `classes`.
    pub fn classify_index(&self, e164: &str) -> Option<usize> {
        let mut best: Option<(usize, usize)> = None;
        for (i, class) in self.classes.iter().enumerate() {
            for p in &class.prefixes {
                if e164.starts_with(p.as_str()) && best.map_or(true, |(len, _)| p.len() > len) {
                    best = Some((p.len(), i));
                }
            }
        }
        best.map(|(_, i)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(ppm: Money, setup: Money, first: u32, next: u32) -> Rate {
        Rate {
            price_per_minute: ppm,
            setup,
            first_interval: first,
            next_interval: next,
        }
    }

    #[test]
    fn billed_seconds_table() {
        let cases: &[(u32, u32, u64, u64)] = &[
            (60, 60, 0, 0),
            (60, 60, 1, 60),
            (60, 60, 60, 60),
            (60, 60, 61, 120),
            (60, 60, 119, 120),
            (30, 6, 1, 30),
            (30, 6, 30, 30),
            (30, 6, 31, 36),
            (30, 6, 36, 36),
            (30, 6, 37, 42),
            (1, 1, 0, 0),
            (1, 1, 1, 1),
            (1, 1, 59, 59),
            (60, 60, u64::MAX, u64::MAX),
        ];
        for &(f, n, secs, want) in cases {
            assert_eq!(
                rate(10, 0, f, n).billed_seconds(secs),
                want,
                "{f}/{n} {secs}"
            );
        }
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn cost_table() {
        // (ppm, setup, first, next, elapsed_100ms, answered, cost)
        let cases: &[(Money, Money, u32, u32, u64, bool, Money)] = &[
            (60, 10, 60, 60, 0, false, 0),
            (60, 10, 60, 60, 500, false, 0),
            (60, 10, 60, 60, 0, true, 10),
            (60, 10, 60, 60, 1, true, 70),
            (60, 10, 60, 60, 600, true, 70),
            (60, 10, 60, 60, 601, true, 130),
            (60, 0, 30, 6, 300, true, 30),
            (60, 0, 30, 6, 301, true, 36), // 30.1 s → 31 s → 36 s billed
            (60, 0, 30, 6, 360, true, 36),
            (60, 0, 30, 6, 361, true, 42),
            (7, 0, 1, 1, 10, true, 1),  // 7/60 rounds up to 1
            (7, 0, 1, 1, 600, true, 7), // one minute exact
            (7, 0, 1, 1, 610, true, 8), // 61 s = 427/60 → 7.1 → 8
            (25, 5, 1, 1, 9, true, 6),  // 0.9 s counts as 1 s
            (0, 0, 60, 60, 36_000, true, 0),
            (0, 15, 60, 60, 36_000, true, 15),
        ];
        for &(ppm, setup, f, n, e, ans, want) in cases {
            assert_eq!(
                rate(ppm, setup, f, n).cost(e, ans),
                want,
                "{ppm} {setup} {f}/{n} {e} {ans}"
            );
        }
    }

    #[test]
    fn huge_values_saturate() {
        let r = rate(Money::MAX, Money::MAX, 1, 1);
        assert_eq!(r.cost(u64::MAX, true), Money::MAX);
        assert_eq!(r.first_unit_cost(), Money::MAX);
        assert_eq!(r.time_for_money(u64::MAX, Money::MAX, Money::MAX), 0);
        let r = rate(1, 0, 60, 60);
        assert!(r.cost(u64::MAX, true) > 0);
        assert_eq!(r.time_for_money(0, 0, Money::MAX), u64::MAX);
        let r = rate(0, 0, 60, 60);
        assert_eq!(r.time_for_money(0, 0, 0), u64::MAX);
        let neg = rate(-5, -5, 60, 60);
        assert_eq!(neg.cost(600, true), 0);
    }

    #[test]
    fn first_and_next_unit() {
        let r = rate(60, 10, 30, 6);
        assert_eq!(r.first_unit_cost(), 40);
        assert_eq!(r.next_unit_cost(0), 40);
        assert_eq!(r.next_unit_cost(300), 6); // at 30 s: next 6 s
        assert_eq!(r.next_unit_cost(305), 6); // paid to 36 s, then 6 s more
        assert_eq!(r.slice_want(0, 60), 70); // setup + 60 s
        assert_eq!(r.slice_want(600, 60), 60);
        assert_eq!(r.slice_want(0, 10), 40); // slice shorter than first interval: first unit
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn time_for_money_table() {
        // (ppm, setup, first, next, elapsed, charged, grant, expected 100 ms)
        let cases: &[(Money, Money, u32, u32, u64, Money, Money, u64)] = &[
            (60, 10, 60, 60, 0, 0, 70, 600),
            (60, 10, 60, 60, 0, 0, 69, 0),
            (60, 10, 60, 60, 0, 0, 129, 600),
            (60, 10, 60, 60, 0, 0, 130, 1200),
            (60, 10, 60, 60, 0, 0, 5, 0), // below setup
            (60, 10, 60, 60, 600, 70, 60, 600),
            (60, 10, 60, 60, 450, 70, 60, 750), // paid to 60 s already
            (60, 0, 30, 6, 0, 0, 35, 300),
            (60, 0, 30, 6, 0, 0, 36, 360),
            (60, 0, 30, 6, 350, 36, 6, 70), // paid to 36, +6 → 42 s
            (60, 0, 1, 1, 0, 0, 1, 10),
            (7, 0, 1, 1, 0, 0, 7, 600),
            // charged below cost(elapsed): the gap is not charged twice
            (60, 0, 60, 60, 1200, 60, 60, 600),
            (60, 0, 60, 60, 0, 0, 0, 0),
        ];
        for &(ppm, setup, f, n, e, ch, g, want) in cases {
            assert_eq!(
                rate(ppm, setup, f, n).time_for_money(e, ch, g),
                want,
                "{ppm} {setup} {f}/{n} e={e} ch={ch} g={g}"
            );
        }
    }

    #[test]
    fn classify_longest_prefix() {
        let t = Tariff {
            id: "t".into(),
            classes: vec![
                DestClass {
                    name: "intl".into(),
                    prefixes: vec!["".into()],
                    rate: rate(100, 0, 60, 60),
                },
                DestClass {
                    name: "nat".into(),
                    prefixes: vec!["44".into()],
                    rate: rate(10, 0, 60, 60),
                },
                DestClass {
                    name: "mob".into(),
                    prefixes: vec!["447".into()],
                    rate: rate(20, 0, 60, 60),
                },
            ],
        };
        assert_eq!(t.classify("4420").map(|c| c.name.as_str()), Some("nat"));
        assert_eq!(t.classify("44791").map(|c| c.name.as_str()), Some("mob"));
        assert_eq!(t.classify("1212").map(|c| c.name.as_str()), Some("intl"));
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn granted_time_never_costs_more_than_granted(
            ppm in 0i64..10_000, setup in 0i64..500, first in 1u32..120, next in 1u32..120,
            elapsed in 0u64..100_000, grant in 0i64..100_000,
        ) {
            let r = rate(ppm, setup, first, next);
            let charged = r.cost(elapsed, elapsed > 0);
            let t_raw = r.time_for_money(elapsed, charged, grant);
            let t = t_raw.min(10_000_000);
            let cost_end = r.cost(elapsed.saturating_add(t), true);
            prop_assert!(cost_end - charged <= grant || t == 0);
            // maximal: one more increment would exceed the grant (unless free)
            if ppm > 0 && t > 0 && t == t_raw {
                let more = r.cost(elapsed + t + 1, true);
                prop_assert!(more - charged > grant);
            }
        }

        #[test]
        fn cost_is_monotonic(
            ppm in 0i64..10_000, setup in 0i64..500, first in 1u32..120, next in 1u32..120,
            a in 0u64..1_000_000, b in 0u64..1_000_000,
        ) {
            let r = rate(ppm, setup, first, next);
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(r.cost(lo, true) <= r.cost(hi, true));
        }
    }
}
