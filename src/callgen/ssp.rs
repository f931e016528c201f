//! The SSP side of one call, sans-IO: what the switch sends next and what the SCP must have
//! answered. The link feeds it each SCP message as a list of [`Seen`] operations; it checks
//! them against the scenario's expectation and says what to send next ([`SspMsg`]).
//!
//! Time is simulated: a hold time becomes the cumulative `timeIfNoTariffSwitch` of the
//! ApplyChargingReports (TS 29.078 §11.5: 100 ms units since answer), with intermediate reports
//! at the end of each period the SCP granted with ApplyCharging. The delay a real switch would
//! wait before each message is returned too, for `--real-hold`.

use std::fmt;

use strowger_cap::numbers::Digits;
use strowger_tcap::InvokeId;

use super::scenario::{Expect, Flow, Scenario, Scenarios};
use super::stats::Kind;

/// One operation found in an SCP message, reduced to what the checks need.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// RequestReportBCSMEvent.
    Rrbe,
    /// ApplyCharging (time duration): maxCallPeriodDuration, releaseIfdurationExceeded.
    ApplyCharging {
        /// 100 ms units.
        max_100ms: u32,
        /// Release when the period runs out.
        release: bool,
    },
    /// Connect with its destination digits.
    Connect(Digits),
    /// ReleaseCall with its cause value.
    ReleaseCall(u8),
    /// ConnectToResource.
    ConnectToResource,
    /// PlayAnnouncement (elementary message id, 0 if another form).
    PlayAnnouncement(u32),
    /// PromptAndCollectUserInformation: announcement id and the invoke to answer.
    PromptAndCollect(u32, InvokeId),
    /// DisconnectForwardConnection.
    Dfc,
    /// Continue.
    Continue,
    /// CallGap (overload).
    CallGap,
    /// Another operation code.
    Other(u8),
    /// An operation whose argument did not decode.
    Undecodable(u8),
    /// A Reject, ReturnError or result the SSP did not ask for.
    Rejected,
}

impl fmt::Debug for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seen::Rrbe => write!(f, "RRBE"),
            Seen::ApplyCharging { max_100ms, release } => {
                write!(
                    f,
                    "AC({max_100ms}{})",
                    if *release { ",release" } else { "" }
                )
            }
            Seen::Connect(d) => write!(f, "Connect({})", d.as_str()),
            Seen::ReleaseCall(c) => write!(f, "ReleaseCall({c})"),
            Seen::ConnectToResource => write!(f, "CTR"),
            Seen::PlayAnnouncement(id) => write!(f, "PA({id})"),
            Seen::PromptAndCollect(id, _) => write!(f, "PACUI({id})"),
            Seen::Dfc => write!(f, "DFC"),
            Seen::Continue => write!(f, "Continue"),
            Seen::CallGap => write!(f, "CallGap"),
            Seen::Other(c) => write!(f, "op{c}"),
            Seen::Undecodable(c) => write!(f, "undecodable-op{c}"),
            Seen::Rejected => write!(f, "Reject"),
        }
    }
}

/// The TCAP message kind an SCP answer came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// TC-CONTINUE.
    Continue,
    /// TC-END.
    End,
    /// TC-ABORT (user or provider).
    Abort,
}

/// An expected operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exp {
    Rrbe,
    Ac,
    Connect,
    Rc(u8),
    Ctr,
    Pa(u32),
    Pc(u32),
    Dfc,
    Continue,
}

impl Exp {
    fn matches_code(self, s: &Seen) -> bool {
        matches!(
            (self, s),
            (Exp::Rrbe, Seen::Rrbe)
                | (Exp::Ac, Seen::ApplyCharging { .. })
                | (Exp::Connect, Seen::Connect(_))
                | (Exp::Rc(_), Seen::ReleaseCall(_))
                | (Exp::Ctr, Seen::ConnectToResource)
                | (Exp::Pa(_), Seen::PlayAnnouncement(_))
                | (Exp::Pc(_), Seen::PromptAndCollect(..))
                | (Exp::Dfc, Seen::Dfc)
                | (Exp::Continue, Seen::Continue)
        )
    }
}

/// Up to six expected operations, inline.
#[derive(Clone, Copy, Debug)]
struct ExpList {
    ops: [Exp; 6],
    len: u8,
    end: bool,
}

impl ExpList {
    fn new(end: bool) -> Self {
        ExpList {
            ops: [Exp::Continue; 6],
            len: 0,
            end,
        }
    }
    fn push(mut self, e: Exp) -> Self {
        if usize::from(self.len) < self.ops.len() {
            self.ops[usize::from(self.len)] = e;
            self.len += 1;
        }
        self
    }
    fn as_slice(&self) -> &[Exp] {
        &self.ops[..usize::from(self.len)]
    }
}

/// A BCSM event the SSP reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// oAnswer (notify and continue).
    Answer,
    /// oDisconnect from the calling party.
    Disconnect,
    /// oCalledPartyBusy.
    Busy,
    /// oNoAnswer.
    NoAnswer,
    /// oAbandon.
    Abandon,
    /// routeSelectFailure.
    RouteSelectFailure,
}

/// What the SSP sends next, in one TC-CONTINUE (components in this order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SspMsg {
    /// ReturnResult(ReceivedInformation) to this PromptAndCollect invoke, with PIN number
    /// `.1` of the scenario.
    pub pin: Option<(InvokeId, u8)>,
    /// SpecializedResourceReport.
    pub srr: bool,
    /// EventReportBCSM(oAnswer) first.
    pub answer: bool,
    /// ApplyChargingReport: (timeIfNoTariffSwitch, callActive).
    pub acr: Option<(u32, bool)>,
    /// The EventReportBCSM that follows.
    pub event: Option<Event>,
}

/// Latency steps (what the SSP sent → the SCP's answer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// InitialDP → first answer.
    InitialDp,
    /// PIN digits → next instruction.
    Pin,
    /// Intermediate ApplyChargingReport → ApplyCharging.
    ChargingReport,
    /// SpecializedResourceReport → ReleaseCall.
    AnnouncementDone,
    /// The call's end → TC-END.
    Release,
}

impl Step {
    /// Every step, in report order.
    pub const ALL: [Step; 5] = [
        Step::InitialDp,
        Step::Pin,
        Step::ChargingReport,
        Step::AnnouncementDone,
        Step::Release,
    ];

    /// Name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Step::InitialDp => "initial_dp",
            Step::Pin => "pin",
            Step::ChargingReport => "charging_report",
            Step::AnnouncementDone => "announcement_done",
            Step::Release => "release",
        }
    }

    /// Index into [`Step::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// After InitialDP or a PIN: prompts, then the final treatment.
    First,
    /// After SpecializedResourceReport: ReleaseCall(cause).
    Release(u8),
    /// After an intermediate ApplyChargingReport: ApplyCharging.
    Recharge,
    /// After the call's end: TC-END with ReleaseCall(normal) or Continue.
    End {
        release: bool,
    },
    Done,
}

/// What the link does after an SCP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Send this, after `delay_100ms` of simulated time (0 unless `--real-hold`).
    Send {
        /// The message.
        msg: SspMsg,
        /// Time a real switch would wait first, 100 ms units.
        delay_100ms: u32,
        /// The latency step it starts.
        step: Step,
    },
    /// The call completed as expected.
    Done,
}

/// A mismatch found, with what was expected (for the report's examples).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Kind, counted.
    pub kind: Kind,
}

/// The SSP state of one call.
#[derive(Clone, Copy, Debug)]
pub struct SspCall {
    stage: Stage,
    pins_sent: u8,
    answered_sent: bool,
    charging: bool,
    cum_100ms: u32,
    grant_100ms: u32,
    release_at_limit: bool,
    reports_sent: u16,
    hold_100ms: u32,
}

impl SspCall {
    /// A call of a scenario with a sampled hold time; the InitialDP is about to be sent.
    pub fn new(hold_100ms: u32) -> SspCall {
        SspCall {
            stage: Stage::First,
            pins_sent: 0,
            answered_sent: false,
            charging: false,
            cum_100ms: 0,
            grant_100ms: 0,
            release_at_limit: false,
            reports_sent: 0,
            hold_100ms,
        }
    }

    /// Whether the call is over.
    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    fn expected(&self, sc: &Scenarios, s: &Scenario) -> ExpList {
        match self.stage {
            Stage::First => {
                let p = usize::from(self.pins_sent);
                if p < s.pins.len() {
                    let e = ExpList::new(false);
                    return if p == 0 {
                        e.push(Exp::Ctr).push(Exp::Pc(sc.pin_prompt_announcement))
                    } else {
                        e.push(Exp::Pc(sc.pin_retry_announcement))
                    };
                }
                let resource = !s.pins.is_empty();
                match &s.expect {
                    Expect::Connect { apply_charging, .. } => {
                        let mut e = ExpList::new(false);
                        if resource {
                            e = e.push(Exp::Dfc);
                        }
                        e = e.push(Exp::Rrbe);
                        if *apply_charging {
                            e = e.push(Exp::Ac);
                        }
                        e.push(Exp::Connect)
                    }
                    Expect::Refuse {
                        announcement: Some(a),
                        ..
                    } => {
                        let mut e = ExpList::new(false);
                        if !resource {
                            e = e.push(Exp::Ctr);
                        }
                        e.push(Exp::Pa(*a))
                    }
                    Expect::Refuse {
                        announcement: None,
                        cause,
                    } => ExpList::new(true).push(Exp::Rc(*cause)),
                    Expect::Continue => ExpList::new(true).push(Exp::Continue),
                }
            }
            Stage::Release(cause) => ExpList::new(true).push(Exp::Rc(cause)),
            Stage::Recharge => ExpList::new(false).push(Exp::Ac),
            Stage::End { release: true } => {
                ExpList::new(true).push(Exp::Rc(sc.normal_release_cause))
            }
            Stage::End { release: false } => ExpList::new(true).push(Exp::Continue),
            Stage::Done => ExpList::new(true),
        }
    }

    /// Describe the expectation now (for mismatch examples).
    pub fn describe_expected(&self, sc: &Scenarios, s: &Scenario, connect: &str) -> String {
        let e = self.expected(sc, s);
        let ops: Vec<String> = e
            .as_slice()
            .iter()
            .map(|o| match o {
                Exp::Connect => format!("Connect({connect})"),
                Exp::Rc(c) => format!("ReleaseCall({c})"),
                Exp::Pa(a) => format!("PA({a})"),
                Exp::Pc(a) => format!("PACUI({a})"),
                Exp::Rrbe => "RRBE".into(),
                Exp::Ac => "AC".into(),
                Exp::Ctr => "CTR".into(),
                Exp::Dfc => "DFC".into(),
                Exp::Continue => "Continue".into(),
            })
            .collect();
        format!(
            "TC-{} [{}]",
            if e.end { "END" } else { "CONTINUE" },
            ops.join(", ")
        )
    }

    /// Check one SCP message (`connect` = the Connect destination expected) and decide what
    /// comes next.
    pub fn on_answer(
        &mut self,
        sc: &Scenarios,
        s: &Scenario,
        connect: &str,
        answer: Answer,
        seen: &[Seen],
    ) -> Result<Next, Mismatch> {
        let exp = self.expected(sc, s);
        let fail = |kind| Err(Mismatch { kind });
        if answer == Answer::Abort {
            return fail(Kind::Aborted);
        }
        if seen.iter().any(|x| matches!(x, Seen::Rejected)) {
            return fail(Kind::Rejected);
        }
        if seen.iter().any(|x| matches!(x, Seen::Undecodable(_))) {
            return fail(Kind::Undecodable);
        }
        let ops = exp.as_slice();
        let same_ops =
            ops.len() == seen.len() && ops.iter().zip(seen).all(|(e, s)| e.matches_code(s));
        if !same_ops {
            let overload = seen.iter().any(|x| matches!(x, Seen::CallGap))
                || (self.stage == Stage::First
                    && self.pins_sent == 0
                    && matches!(seen, [Seen::ReleaseCall(42)]));
            return fail(if overload {
                Kind::OverloadRefused
            } else {
                Kind::WrongOperations
            });
        }
        if exp.end != (answer == Answer::End) {
            return fail(Kind::WrongMessageType);
        }
        let mut grant = None;
        let mut prompt = None;
        for (e, x) in ops.iter().zip(seen) {
            match (e, x) {
                (Exp::Connect, Seen::Connect(d)) if d.as_str() != connect => {
                    return fail(Kind::WrongConnectNumber)
                }
                (Exp::Rc(c), Seen::ReleaseCall(got)) if c != got => {
                    return fail(Kind::WrongReleaseCause)
                }
                (Exp::Pa(a), Seen::PlayAnnouncement(got)) if a != got => {
                    return fail(Kind::WrongAnnouncement)
                }
                (Exp::Pc(a), Seen::PromptAndCollect(got, id)) => {
                    if a != got {
                        return fail(Kind::WrongAnnouncement);
                    }
                    prompt = Some(*id);
                }
                (Exp::Ac, Seen::ApplyCharging { max_100ms, release }) => {
                    if *max_100ms == 0 {
                        return fail(Kind::WrongOperations);
                    }
                    grant = Some((*max_100ms, *release));
                }
                _ => {}
            }
        }
        if let Some((max, release)) = grant {
            self.charging = true;
            self.grant_100ms = max;
            self.release_at_limit = release;
        }
        match self.stage {
            Stage::First => {
                if let Some(id) = prompt {
                    let i = self.pins_sent;
                    self.pins_sent += 1;
                    return Ok(Next::Send {
                        msg: SspMsg {
                            pin: Some((id, i)),
                            ..SspMsg::default()
                        },
                        delay_100ms: 0,
                        step: Step::Pin,
                    });
                }
                match &s.expect {
                    Expect::Connect { flow, reports, .. } => Ok(self.flow(*flow, *reports)),
                    Expect::Refuse {
                        announcement: Some(_),
                        cause,
                    } => {
                        self.stage = Stage::Release(*cause);
                        Ok(Next::Send {
                            msg: SspMsg {
                                srr: true,
                                ..SspMsg::default()
                            },
                            delay_100ms: 0,
                            step: Step::AnnouncementDone,
                        })
                    }
                    _ => {
                        self.stage = Stage::Done;
                        Ok(Next::Done)
                    }
                }
            }
            Stage::Recharge => match &s.expect {
                Expect::Connect { flow, reports, .. } => Ok(self.flow(*flow, *reports)),
                _ => fail(Kind::WrongOperations),
            },
            Stage::Release(_) | Stage::End { .. } | Stage::Done => {
                self.stage = Stage::Done;
                Ok(Next::Done)
            }
        }
    }

    /// The next message of a connected call.
    fn flow(&mut self, flow: Flow, reports: Option<u16>) -> Next {
        let event = match flow {
            Flow::Answered => None,
            Flow::Busy => Some(Event::Busy),
            Flow::NoAnswer => Some(Event::NoAnswer),
            Flow::Abandon => Some(Event::Abandon),
            Flow::RouteFailure => Some(Event::RouteSelectFailure),
        };
        if let Some(ev) = event {
            // Unanswered: a charged call reports 0 time first (TS 29.078 §11.5).
            self.stage = Stage::End {
                release: flow == Flow::Abandon,
            };
            return Next::Send {
                msg: SspMsg {
                    acr: self.charging.then_some((0, false)),
                    event: Some(ev),
                    ..SspMsg::default()
                },
                delay_100ms: 0,
                step: Step::Release,
            };
        }
        let answer = !self.answered_sent;
        self.answered_sent = true;
        if !self.charging {
            self.stage = Stage::End { release: true };
            return Next::Send {
                msg: SspMsg {
                    answer,
                    event: Some(Event::Disconnect),
                    ..SspMsg::default()
                },
                delay_100ms: self.hold_100ms,
                step: Step::Release,
            };
        }
        let period_end = self.cum_100ms.saturating_add(self.grant_100ms);
        let last = match reports {
            Some(n) => self.reports_sent.saturating_add(1) >= n,
            None => self.hold_100ms <= period_end,
        };
        if !last && !self.release_at_limit {
            let delay = period_end - self.cum_100ms;
            self.cum_100ms = period_end;
            self.reports_sent = self.reports_sent.saturating_add(1);
            self.stage = Stage::Recharge;
            return Next::Send {
                msg: SspMsg {
                    answer,
                    acr: Some((period_end, true)),
                    ..SspMsg::default()
                },
                delay_100ms: delay,
                step: Step::ChargingReport,
            };
        }
        let elapsed = if !last {
            // The switch releases the call when the last granted period runs out.
            period_end
        } else if reports.is_some() {
            self.cum_100ms
                .saturating_add(self.hold_100ms.min(self.grant_100ms))
        } else {
            self.hold_100ms.min(period_end)
        };
        let delay = elapsed - self.cum_100ms.min(elapsed);
        self.cum_100ms = elapsed;
        self.reports_sent = self.reports_sent.saturating_add(1);
        self.stage = Stage::End { release: true };
        Next::Send {
            msg: SspMsg {
                answer,
                acr: Some((elapsed, false)),
                event: Some(Event::Disconnect),
                ..SspMsg::default()
            },
            delay_100ms: delay,
            step: Step::Release,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenarios() -> Scenarios {
        Scenarios::parse(include_str!("../../examples/scenarios.toml")).unwrap()
    }

    fn get<'a>(sc: &'a Scenarios, name: &str) -> &'a Scenario {
        sc.scenarios.iter().find(|s| s.name == name).unwrap()
    }

    fn d(s: &str) -> Digits {
        Digits::from_str(s).unwrap()
    }

    #[test]
    fn prepaid_three_reports() {
        let sc = scenarios();
        let s = get(&sc, "prepaid_answered");
        let mut c = SspCall::new(0);
        let first = [
            Seen::Rrbe,
            Seen::ApplyCharging {
                max_100ms: 1200,
                release: false,
            },
            Seen::Connect(d("12125560007")),
        ];
        let n = c
            .on_answer(&sc, s, "12125560007", Answer::Continue, &first)
            .unwrap();
        assert_eq!(
            n,
            Next::Send {
                msg: SspMsg {
                    answer: true,
                    acr: Some((1200, true)),
                    ..SspMsg::default()
                },
                delay_100ms: 1200,
                step: Step::ChargingReport
            }
        );
        let ac = [Seen::ApplyCharging {
            max_100ms: 1200,
            release: false,
        }];
        let n = c.on_answer(&sc, s, "x", Answer::Continue, &ac).unwrap();
        assert!(matches!(
            n,
            Next::Send {
                msg: SspMsg {
                    answer: false,
                    acr: Some((2400, true)),
                    ..
                },
                ..
            }
        ));
        let n = c.on_answer(&sc, s, "x", Answer::Continue, &ac).unwrap();
        assert!(matches!(
            n,
            Next::Send {
                msg: SspMsg {
                    acr: Some((2400, false)),
                    event: Some(Event::Disconnect),
                    ..
                },
                step: Step::Release,
                ..
            }
        ));
        let n = c
            .on_answer(&sc, s, "x", Answer::End, &[Seen::ReleaseCall(16)])
            .unwrap();
        assert_eq!(n, Next::Done);
        assert!(c.is_done());
    }

    #[test]
    fn mismatches_by_kind() {
        let sc = scenarios();
        let s = get(&sc, "prepaid_answered");
        let ok = |x: &[Seen], a| SspCall::new(0).on_answer(&sc, s, "12125560007", a, x);
        let ac = Seen::ApplyCharging {
            max_100ms: 10,
            release: false,
        };
        let k = |r: Result<Next, Mismatch>| r.unwrap_err().kind;
        assert_eq!(
            k(ok(
                &[Seen::Rrbe, Seen::Connect(d("12125560007"))],
                Answer::Continue
            )),
            Kind::WrongOperations
        );
        assert_eq!(
            k(ok(
                &[Seen::Rrbe, ac, Seen::Connect(d("1"))],
                Answer::Continue
            )),
            Kind::WrongConnectNumber
        );
        assert_eq!(
            k(ok(
                &[Seen::Rrbe, ac, Seen::Connect(d("12125560007"))],
                Answer::End
            )),
            Kind::WrongMessageType
        );
        assert_eq!(
            k(ok(&[Seen::ReleaseCall(42)], Answer::End)),
            Kind::OverloadRefused
        );
        assert_eq!(k(ok(&[], Answer::Abort)), Kind::Aborted);
    }

    #[test]
    fn wrong_pins_then_announcement() {
        let sc = scenarios();
        let s = get(&sc, "pin_wrong");
        let mut c = SspCall::new(0);
        let n = c
            .on_answer(
                &sc,
                s,
                "",
                Answer::Continue,
                &[Seen::ConnectToResource, Seen::PromptAndCollect(10, 1)],
            )
            .unwrap();
        assert!(matches!(
            n,
            Next::Send {
                msg: SspMsg {
                    pin: Some((1, 0)),
                    ..
                },
                ..
            }
        ));
        for i in 1..3u8 {
            let n = c
                .on_answer(
                    &sc,
                    s,
                    "",
                    Answer::Continue,
                    &[Seen::PromptAndCollect(11, 2)],
                )
                .unwrap();
            assert!(
                matches!(n, Next::Send { msg: SspMsg { pin: Some((2, p)), .. }, .. } if p == i)
            );
        }
        let n = c
            .on_answer(&sc, s, "", Answer::Continue, &[Seen::PlayAnnouncement(1)])
            .unwrap();
        assert!(matches!(
            n,
            Next::Send {
                msg: SspMsg { srr: true, .. },
                ..
            }
        ));
        assert_eq!(
            c.on_answer(&sc, s, "", Answer::End, &[Seen::ReleaseCall(87)]),
            Ok(Next::Done)
        );
    }

    #[test]
    fn hold_time_drives_reports_and_release_at_limit() {
        let sc = scenarios();
        let s = get(&sc, "prepaid_off_net");
        // 250 s hold, 100 s periods: reports at 1000, 2000, final at 2500.
        let mut c = SspCall::new(2500);
        let g = |release| Seen::ApplyCharging {
            max_100ms: 1000,
            release,
        };
        let first = [Seen::Rrbe, g(false), Seen::Connect(d("442079460000"))];
        let n = c
            .on_answer(&sc, s, "442079460000", Answer::Continue, &first)
            .unwrap();
        assert!(matches!(
            n,
            Next::Send {
                msg: SspMsg {
                    acr: Some((1000, true)),
                    ..
                },
                ..
            }
        ));
        let n = c
            .on_answer(&sc, s, "", Answer::Continue, &[g(false)])
            .unwrap();
        assert!(matches!(
            n,
            Next::Send {
                msg: SspMsg {
                    acr: Some((2000, true)),
                    ..
                },
                ..
            }
        ));
        // The last grant asks for a release at its end, but the hold time (250 s) ends first.
        let n = c
            .on_answer(&sc, s, "", Answer::Continue, &[g(true)])
            .unwrap();
        assert!(matches!(
            n,
            Next::Send {
                msg: SspMsg {
                    acr: Some((2500, false)),
                    ..
                },
                delay_100ms: 500,
                ..
            }
        ));

        // A grant with release that ends before the hold: released at the limit.
        let mut c = SspCall::new(5000);
        let first = [Seen::Rrbe, g(true), Seen::Connect(d("442079460000"))];
        let n = c
            .on_answer(&sc, s, "442079460000", Answer::Continue, &first)
            .unwrap();
        assert!(matches!(
            n,
            Next::Send {
                msg: SspMsg {
                    acr: Some((1000, false)),
                    ..
                },
                ..
            }
        ));
    }

    #[test]
    fn unanswered_flows() {
        let sc = scenarios();
        let s = get(&sc, "busy");
        let mut c = SspCall::new(0);
        let first = [
            Seen::Rrbe,
            Seen::ApplyCharging {
                max_100ms: 10,
                release: false,
            },
            Seen::Connect(d("1")),
        ];
        let n = c.on_answer(&sc, s, "1", Answer::Continue, &first).unwrap();
        assert!(matches!(
            n,
            Next::Send {
                msg: SspMsg {
                    acr: Some((0, false)),
                    event: Some(Event::Busy),
                    answer: false,
                    ..
                },
                ..
            }
        ));
        assert_eq!(
            c.on_answer(&sc, s, "1", Answer::End, &[Seen::Continue]),
            Ok(Next::Done)
        );
        let s = get(&sc, "abandon");
        let mut c = SspCall::new(0);
        c.on_answer(&sc, s, "1", Answer::Continue, &first).unwrap();
        assert_eq!(
            c.on_answer(&sc, s, "1", Answer::End, &[Seen::ReleaseCall(16)]),
            Ok(Next::Done)
        );
    }
}
