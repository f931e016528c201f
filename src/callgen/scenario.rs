//! The scenario file: subscriber ranges, weighted call scenarios and what the SCP must answer
//! in each. TOML; `examples/scenarios.toml` documents every field and matches
//! `examples/provisioning.toml`.
//!
//! ```toml
//! [defaults]                       # optional; every field has a default
//! service_key = 100
//! application_context = "cap-v2"   # cap-v2 | cap-v3 | cap-v4
//! hold = { constant = 0 }          # seconds: { constant = s } | { uniform = [a, b] } | { exponential = mean }
//! normal_release_cause = 16        # ReleaseCall cause that ends answered / abandoned calls
//! pin_prompt_announcement = 10
//! pin_retry_announcement = 11
//!
//! [[range]]                        # a block of subscribers (numbers and extensions count up together)
//! name = "us_load"
//! first_number = "12125560000"
//! first_extension = "2000"         # optional
//! count = 5000
//!
//! [[scenario]]
//! name = "prepaid_on_net"
//! weight = 30
//! calling = { range = "us_load" }              # or a fixed number "12125550101"
//! called = { range = "us_load", dial = "extension" }   # or fixed digits "0102"; dial = "number" with prefix = "9"
//! expect = "connect"               # connect | refuse | continue
//! apply_charging = true            # connect: ApplyCharging must come with the Connect (prepaid)
//! connect = "12125550102"          # connect: the translated number (default: the callee range's number)
//! flow = "answered"                # connect: answered | busy | no_answer | abandon | route_failure
//! reports = 2                      # answered + charging: number of ApplyChargingReports
//! pins = ["1234"]                  # digits given to each PromptAndCollectUserInformation in turn
//! announcement = 2                 # refuse: the PlayAnnouncement message id (omit: release at once)
//! cause = 31                       # refuse: the ReleaseCall cause
//! ```

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use strowger_cap::Dialect;

/// Why a scenario file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Not valid TOML for this schema.
    #[error("invalid scenario file: {0}")]
    Parse(#[from] toml::de::Error),
    /// A value is out of range or inconsistent.
    #[error("scenario {scenario:?}: {what}")]
    Invalid {
        /// The scenario (or range) named.
        scenario: String,
        /// What is wrong.
        what: String,
    },
}

fn invalid(scenario: &str, what: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        scenario: scenario.to_string(),
        what: what.into(),
    }
}

/// A hold-time distribution, in seconds.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Hold {
    /// Always this long.
    Constant(f64),
    /// Uniform between the two bounds.
    Uniform([f64; 2]),
    /// Exponential with this mean.
    Exponential(f64),
}

impl Default for Hold {
    fn default() -> Self {
        Hold::Constant(0.0)
    }
}

impl Hold {
    /// A sample in 100 ms units, from a uniform `u` in [0, 1).
    pub fn sample_100ms(&self, u: f64) -> u32 {
        let secs = match *self {
            Hold::Constant(s) => s,
            Hold::Uniform([a, b]) => a + (b - a) * u,
            Hold::Exponential(mean) => -mean * (1.0 - u).max(f64::MIN_POSITIVE).ln(),
        };
        // 864000 (24 h) is the largest timeIfNoTariffSwitch CAP carries.
        (secs * 10.0).round().clamp(0.0, 864_000.0) as u32
    }

    fn valid(&self) -> bool {
        match *self {
            Hold::Constant(s) | Hold::Exponential(s) => s.is_finite() && s >= 0.0,
            Hold::Uniform([a, b]) => a.is_finite() && b.is_finite() && 0.0 <= a && a <= b,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DefaultsFile {
    service_key: u32,
    application_context: String,
    hold: Hold,
    normal_release_cause: u8,
    pin_prompt_announcement: u32,
    pin_retry_announcement: u32,
}

impl Default for DefaultsFile {
    fn default() -> Self {
        DefaultsFile {
            service_key: 100,
            application_context: "cap-v2".into(),
            hold: Hold::default(),
            normal_release_cause: 16,
            pin_prompt_announcement: 10,
            pin_retry_announcement: 11,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeFile {
    name: String,
    first_number: String,
    #[serde(default)]
    first_extension: Option<String>,
    count: u32,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum NumberFile {
    Fixed(String),
    Range {
        range: String,
        #[serde(default)]
        dial: Option<String>,
        #[serde(default)]
        prefix: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    #[serde(default = "one")]
    weight: u32,
    #[serde(default)]
    service_key: Option<u32>,
    calling: NumberFile,
    called: NumberFile,
    expect: String,
    #[serde(default)]
    apply_charging: bool,
    #[serde(default)]
    connect: Option<String>,
    #[serde(default)]
    flow: Option<String>,
    #[serde(default)]
    reports: Option<u16>,
    #[serde(default)]
    hold: Option<Hold>,
    #[serde(default)]
    pins: Vec<String>,
    #[serde(default)]
    announcement: Option<u32>,
    #[serde(default)]
    cause: Option<u8>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    defaults: DefaultsFile,
    #[serde(default)]
    range: Vec<RangeFile>,
    scenario: Vec<ScenarioFile>,
}

/// A block of subscribers: number i is `first_number + i`, extension i is
/// `first_extension + i`, both keeping their width.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    /// Name used by scenarios.
    pub name: String,
    first_number: u64,
    number_width: usize,
    first_extension: Option<(u64, usize)>,
    /// Subscribers in the range.
    pub count: u32,
}

fn parse_digits(s: &str) -> Option<(u64, usize)> {
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().map(|v| (v, s.len()))
}

/// Write `base + i` with `width` digits (leading zeros kept) into `out`.
fn write_number(out: &mut String, base: u64, width: usize, i: u32) {
    use std::fmt::Write;
    let _ = write!(out, "{:0width$}", base + u64::from(i), width = width);
}

impl Range {
    /// Public number of subscriber `i`.
    pub fn number(&self, i: u32, out: &mut String) {
        write_number(out, self.first_number, self.number_width, i);
    }

    /// Extension of subscriber `i`, if the range has extensions.
    pub fn extension(&self, i: u32, out: &mut String) -> bool {
        match self.first_extension {
            Some((b, w)) => {
                write_number(out, b, w, i);
                true
            }
            None => false,
        }
    }
}

/// How a number is chosen for each call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumberSpec {
    /// Always these digits.
    Fixed(String),
    /// A random subscriber of range `range` (an index into [`Scenarios::ranges`]), dialled as
    /// its extension or as `prefix` + its number.
    Range {
        /// Range index.
        range: usize,
        /// Dial the extension (else the number).
        extension: bool,
        /// Digits put before the number (e.g. an access prefix "9").
        prefix: String,
    },
}

/// What the SCP must answer the InitialDP with (after any PIN prompts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// TC-CONTINUE: RequestReportBCSMEvent (+ ApplyCharging) + Connect to the number.
    Connect {
        /// Expected Connect destination; `None`: the callee range's public number.
        number: Option<String>,
        /// ApplyCharging expected with the Connect (prepaid).
        apply_charging: bool,
        /// How the call goes on.
        flow: Flow,
        /// Number of ApplyChargingReports for an answered charged call (else from the hold time).
        reports: Option<u16>,
    },
    /// PlayAnnouncement (if any) then ReleaseCall with this cause.
    Refuse {
        /// Announcement message id.
        announcement: Option<u32>,
        /// Q.850 cause.
        cause: u8,
    },
    /// TC-END with Continue (e.g. an unknown service key set to continue).
    Continue,
}

/// What happens after the Connect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flow {
    /// Answered, held, released by the caller.
    Answered,
    /// oCalledPartyBusy.
    Busy,
    /// oNoAnswer.
    NoAnswer,
    /// oAbandon.
    Abandon,
    /// routeSelectFailure.
    RouteFailure,
}

impl Flow {
    fn parse(s: &str) -> Option<Flow> {
        Some(match s {
            "answered" => Flow::Answered,
            "busy" => Flow::Busy,
            "no_answer" => Flow::NoAnswer,
            "abandon" => Flow::Abandon,
            "route_failure" => Flow::RouteFailure,
            _ => return None,
        })
    }
}

/// One scenario of the mix.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Name in reports.
    pub name: String,
    /// Relative weight in the mix.
    pub weight: u32,
    /// InitialDP serviceKey.
    pub service_key: u32,
    /// Calling party.
    pub calling: NumberSpec,
    /// Dialled digits.
    pub called: NumberSpec,
    /// PIN digits answering each prompt, in order.
    pub pins: Vec<String>,
    /// The expected treatment.
    pub expect: Expect,
    /// Hold time.
    pub hold: Hold,
}

/// A loaded scenario file.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenarios {
    /// Subscriber ranges.
    pub ranges: Vec<Range>,
    /// The mix.
    pub scenarios: Vec<Scenario>,
    /// Dialect of every dialogue.
    pub dialect: Dialect,
    /// Encoded OID of the application context proposed.
    pub application_context: &'static [u8],
    /// ReleaseCall cause that ends answered / abandoned calls.
    pub normal_release_cause: u8,
    /// PromptAndCollect announcement of the first PIN prompt.
    pub pin_prompt_announcement: u32,
    /// PromptAndCollect announcement after a wrong PIN.
    pub pin_retry_announcement: u32,
    cumulative: Vec<u64>,
}

/// Encoded OID contents of the gsmSSF-to-gsmSCF context of each CAP phase.
fn context(name: &str) -> Option<(Dialect, &'static [u8])> {
    const V2: &[u8] = &[0x04, 0x00, 0x00, 0x01, 0x00, 0x32, 0x01];
    const V3: &[u8] = &[0x04, 0x00, 0x00, 0x01, 0x15, 0x03, 0x04];
    const V4: &[u8] = &[0x04, 0x00, 0x00, 0x01, 0x16, 0x03, 0x04];
    let oid = match name {
        "cap-v2" => V2,
        "cap-v3" => V3,
        "cap-v4" => V4,
        _ => return None,
    };
    let ac = strowger_cap::application_context(oid)?;
    Some((ac.dialect, oid))
}

impl Scenarios {
    /// Load a scenario file.
    pub fn load(path: &Path) -> Result<Scenarios, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Scenarios::parse(&text)
    }

    /// Parse and validate scenario TOML.
    pub fn parse(text: &str) -> Result<Scenarios, ScenarioError> {
        let file: File = toml::from_str(text)?;
        let d = file.defaults;
        let (dialect, application_context) = context(&d.application_context).ok_or_else(|| {
            invalid(
                "defaults",
                format!(
                    "unknown application_context {:?} (cap-v2, cap-v3, cap-v4)",
                    d.application_context
                ),
            )
        })?;
        if !d.hold.valid() {
            return Err(invalid("defaults", "hold must be finite and not negative"));
        }
        let mut ranges = Vec::with_capacity(file.range.len());
        let mut by_name = HashMap::new();
        for r in file.range {
            let (first_number, number_width) = parse_digits(&r.first_number)
                .ok_or_else(|| invalid(&r.name, "first_number must be 1-18 digits"))?;
            let first_extension = match &r.first_extension {
                Some(e) => Some(
                    parse_digits(e)
                        .ok_or_else(|| invalid(&r.name, "first_extension must be digits"))?,
                ),
                None => None,
            };
            if r.count == 0 {
                return Err(invalid(&r.name, "count must be positive"));
            }
            let last = first_number.saturating_add(u64::from(r.count - 1));
            if last.to_string().len() > number_width {
                return Err(invalid(&r.name, "numbers overflow their width"));
            }
            if let Some((e, w)) = first_extension {
                if (e + u64::from(r.count - 1)).to_string().len() > w {
                    return Err(invalid(&r.name, "extensions overflow their width"));
                }
            }
            if by_name.insert(r.name.clone(), ranges.len()).is_some() {
                return Err(invalid(&r.name, "range defined twice"));
            }
            ranges.push(Range {
                name: r.name,
                first_number,
                number_width,
                first_extension,
                count: r.count,
            });
        }
        let mut scenarios = Vec::with_capacity(file.scenario.len());
        for s in file.scenario {
            let name = s.name.clone();
            let spec = |n: &NumberFile| -> Result<NumberSpec, ScenarioError> {
                Ok(match n {
                    NumberFile::Fixed(d) => {
                        if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
                            return Err(invalid(&name, format!("{d:?} is not a number")));
                        }
                        NumberSpec::Fixed(d.clone())
                    }
                    NumberFile::Range {
                        range,
                        dial,
                        prefix,
                    } => {
                        let &ri = by_name
                            .get(range)
                            .ok_or_else(|| invalid(&name, format!("unknown range {range:?}")))?;
                        let extension = match dial.as_deref() {
                            None | Some("number") => false,
                            Some("extension") => true,
                            Some(other) => {
                                return Err(invalid(
                                    &name,
                                    format!("dial {other:?}: extension or number"),
                                ))
                            }
                        };
                        if extension && ranges[ri].first_extension.is_none() {
                            return Err(invalid(
                                &name,
                                format!("range {range:?} has no extensions"),
                            ));
                        }
                        let prefix = prefix.clone().unwrap_or_default();
                        if !prefix.bytes().all(|b| b.is_ascii_digit()) {
                            return Err(invalid(&name, "prefix must be digits"));
                        }
                        NumberSpec::Range {
                            range: ri,
                            extension,
                            prefix,
                        }
                    }
                })
            };
            let calling = spec(&s.calling)?;
            let called = spec(&s.called)?;
            if matches!(
                calling,
                NumberSpec::Range {
                    extension: true,
                    ..
                }
            ) {
                return Err(invalid(&name, "calling numbers are public numbers"));
            }
            for p in &s.pins {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid(&name, "pins must be digits"));
                }
            }
            let expect = match s.expect.as_str() {
                "connect" => {
                    let flow = match s.flow.as_deref() {
                        None => Flow::Answered,
                        Some(f) => Flow::parse(f).ok_or_else(|| {
                            invalid(
                                &name,
                                format!(
                                    "flow {f:?}: answered, busy, no_answer, abandon, route_failure"
                                ),
                            )
                        })?,
                    };
                    if s.connect.is_none() && !matches!(called, NumberSpec::Range { .. }) {
                        return Err(invalid(
                            &name,
                            "connect (the expected translated number) is needed with fixed called digits",
                        ));
                    }
                    if s.announcement.is_some() || s.cause.is_some() {
                        return Err(invalid(
                            &name,
                            "announcement/cause belong to expect = \"refuse\"",
                        ));
                    }
                    if s.reports == Some(0) {
                        return Err(invalid(&name, "reports must be at least 1"));
                    }
                    Expect::Connect {
                        number: s.connect.clone(),
                        apply_charging: s.apply_charging,
                        flow,
                        reports: s.reports,
                    }
                }
                "refuse" => Expect::Refuse {
                    announcement: s.announcement,
                    cause: s
                        .cause
                        .ok_or_else(|| invalid(&name, "expect = \"refuse\" needs cause"))?,
                },
                "continue" => Expect::Continue,
                other => {
                    return Err(invalid(
                        &name,
                        format!("expect {other:?}: connect, refuse or continue"),
                    ))
                }
            };
            let hold = s.hold.unwrap_or(d.hold);
            if !hold.valid() {
                return Err(invalid(&name, "hold must be finite and not negative"));
            }
            scenarios.push(Scenario {
                name: s.name,
                weight: s.weight,
                service_key: s.service_key.unwrap_or(d.service_key),
                calling,
                called,
                pins: s.pins,
                expect,
                hold,
            });
        }
        Scenarios::new(
            ranges,
            scenarios,
            dialect,
            application_context,
            d.normal_release_cause,
            d.pin_prompt_announcement,
            d.pin_retry_announcement,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn new(
        ranges: Vec<Range>,
        scenarios: Vec<Scenario>,
        dialect: Dialect,
        application_context: &'static [u8],
        normal_release_cause: u8,
        pin_prompt_announcement: u32,
        pin_retry_announcement: u32,
    ) -> Result<Scenarios, ScenarioError> {
        if scenarios.is_empty() {
            return Err(invalid("", "at least one [[scenario]] is needed"));
        }
        let mut names = std::collections::HashSet::new();
        for s in &scenarios {
            if !names.insert(s.name.as_str()) {
                return Err(invalid(&s.name, "scenario defined twice"));
            }
        }
        let mut total = 0u64;
        let cumulative = scenarios
            .iter()
            .map(|s| {
                total += u64::from(s.weight);
                total
            })
            .collect();
        if total == 0 {
            return Err(invalid("", "all weights are zero"));
        }
        Ok(Scenarios {
            ranges,
            scenarios,
            dialect,
            application_context,
            normal_release_cause,
            pin_prompt_announcement,
            pin_retry_announcement,
            cumulative,
        })
    }

    /// Keep only the named scenarios (`--only a,b`).
    pub fn retain(&mut self, names: &[String]) -> Result<(), ScenarioError> {
        for n in names {
            if !self.scenarios.iter().any(|s| &s.name == n) {
                return Err(invalid(n, "no such scenario"));
            }
        }
        let kept: Vec<Scenario> = std::mem::take(&mut self.scenarios)
            .into_iter()
            .filter(|s| names.contains(&s.name))
            .collect();
        let again = Scenarios::new(
            std::mem::take(&mut self.ranges),
            kept,
            self.dialect,
            self.application_context,
            self.normal_release_cause,
            self.pin_prompt_announcement,
            self.pin_retry_announcement,
        )?;
        *self = again;
        Ok(())
    }

    /// Pick a scenario from a uniform 64-bit random number, by weight.
    pub fn pick(&self, r: u64) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1).max(1);
        let x = r % total;
        self.cumulative.partition_point(|&c| c <= x)
    }

    /// Subscribers a number spec chooses from (1 for a fixed number).
    pub fn choices(&self, spec: &NumberSpec) -> u32 {
        match spec {
            NumberSpec::Fixed(_) => 1,
            NumberSpec::Range { range, .. } => self.ranges.get(*range).map_or(1, |r| r.count),
        }
    }

    /// The digits `spec` gives for subscriber `i`, appended to `out`.
    pub fn digits(&self, spec: &NumberSpec, i: u32, out: &mut String) {
        match spec {
            NumberSpec::Fixed(d) => out.push_str(d),
            NumberSpec::Range {
                range,
                extension,
                prefix,
            } => {
                let Some(r) = self.ranges.get(*range) else {
                    return;
                };
                if *extension {
                    r.extension(i, out);
                } else {
                    out.push_str(prefix);
                    r.number(i, out);
                }
            }
        }
    }

    /// The Connect destination expected for scenario `s` with callee index `i`, appended to
    /// `out` (empty if the scenario expects no Connect).
    pub fn expected_connect(&self, s: &Scenario, i: u32, out: &mut String) {
        if let Expect::Connect { number, .. } = &s.expect {
            match (number, &s.called) {
                (Some(n), _) => out.push_str(n),
                (None, NumberSpec::Range { range, .. }) => {
                    if let Some(r) = self.ranges.get(*range) {
                        r.number(i, out);
                    }
                }
                (None, NumberSpec::Fixed(_)) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../examples/scenarios.toml");

    #[test]
    fn example_file_loads() {
        let s = Scenarios::parse(EXAMPLE).unwrap();
        assert!(s.scenarios.len() >= 12);
        assert_eq!(s.dialect, Dialect::CapV2);
        let us = s.ranges.iter().find(|r| r.name == "us_load").unwrap();
        let mut n = String::new();
        us.number(4999, &mut n);
        assert_eq!(n, "12125564999");
        n.clear();
        assert!(us.extension(7, &mut n));
        assert_eq!(n, "2007");
    }

    #[test]
    fn weights_pick_every_scenario_in_proportion() {
        let s = Scenarios::parse(
            r#"
            [[scenario]]
            name = "a"
            weight = 1
            calling = "1"
            called = "2"
            expect = "continue"
            [[scenario]]
            name = "b"
            weight = 3
            calling = "1"
            called = "2"
            expect = "continue"
            [[scenario]]
            name = "c"
            weight = 0
            calling = "1"
            called = "2"
            expect = "continue"
            "#,
        )
        .unwrap();
        let mut count = [0; 3];
        for r in 0..400u64 {
            count[s.pick(r)] += 1;
        }
        assert_eq!(count, [100, 300, 0]);
    }

    #[test]
    fn mistakes_are_named() {
        let bad = [
            ("[[scenario]]\nname='x'\ncalling='1'\ncalled='2'\nexpect='connect'\n", "connect"),
            ("[[scenario]]\nname='x'\ncalling='1'\ncalled='2'\nexpect='refuse'\n", "cause"),
            ("[[scenario]]\nname='x'\ncalling={range='r'}\ncalled='2'\nexpect='continue'\n", "unknown range"),
            ("[[scenario]]\nname='x'\ncalling='1'\ncalled='2'\nexpect='maybe'\n", "maybe"),
            ("[defaults]\napplication_context='x'\n[[scenario]]\nname='x'\ncalling='1'\ncalled='2'\nexpect='continue'\n", "application_context"),
        ];
        for (text, word) in bad {
            let e = Scenarios::parse(text).unwrap_err().to_string();
            assert!(e.contains(word), "{e}");
        }
    }

    #[test]
    fn hold_samples() {
        assert_eq!(Hold::Constant(1.5).sample_100ms(0.3), 15);
        assert_eq!(Hold::Uniform([0.0, 10.0]).sample_100ms(0.5), 50);
        assert_eq!(Hold::Exponential(0.0).sample_100ms(0.9), 0);
        assert!(Hold::Exponential(60.0).sample_100ms(0.5) > 0);
    }
}
