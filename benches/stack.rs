//! Full-stack codec benchmark: M3UA DATA → SCCP UDT → TCAP → CAP, for the MSC's TC-BEGIN with
//! an InitialDP (the pycrate fixture `idp_msc_full`: IMSI, location information, MSC address,
//! BCD called number, time zone) and the SCP's TC-CONTINUE answer (RRBE + ApplyCharging +
//! Connect), decoded and encoded by the Strowger crates and, on the same bytes in the same
//! run, by the rasn-based `tcap` 3 + `gsm_cap` 4 crates (M3UA and SCCP have no rasn
//! counterpart, so both sides use ours for those layers).
//!
//! Heap allocations per operation are counted by a counting global allocator. Before the
//! criterion groups, a short interleaved run (ours, theirs, ours, theirs, …) prints a summary
//! table: these machines drift, so ratios are only trusted when measured side by side.
//!
//! `cargo bench --bench stack -- --warm-up-time 1 --measurement-time 3`

use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use criterion::{criterion_group, Criterion, Throughput};
use strowger_cap::ops::{
    ApplyCharging, BcsmEvent, Connect, RequestReportBcsmEvent, TimeDurationCharging,
};
use strowger_cap::{
    dialect_from_oid, Dialect, EventTypeBcsm, LegId, LegType, List, MonitorMode, OpCode, Operation,
};
use strowger_m3ua::{Body, Data, Message as M3ua, ProtocolData, SI_SCCP};
use strowger_sccp::{
    Class, Digits, GlobalTitle, GtAddress, Message as Sccp, NatureOfAddress, NumberingPlan,
    ProtocolClass, SccpAddress, Ssn, TranslationType, Udt,
};
use strowger_tcap::{
    write_invoke, Aare, Aarq, Begin, Code, Component, ComponentPortion, Continue, DialoguePortion,
    Message as Tcap, ObjectId, TransactionId,
};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.alloc_zeroed(l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// CAP v4 gsmSSF-to-gsmSCF (gsm_cap models CAP v4).
const AC_V4: &[u8] = &[0x04, 0x00, 0x00, 0x01, 0x17, 0x03, 0x04];

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn idp_param() -> Vec<u8> {
    let line = include_str!("../protocols/cap/tests/fixtures/pycrate.txt")
        .lines()
        .find(|l| l.starts_with("idp_msc_full "))
        .unwrap();
    unhex(line.split_whitespace().nth(2).unwrap())
}

fn gt(digits: &str) -> SccpAddress {
    SccpAddress::route_on_gt(
        GlobalTitle::TtNpEsNai {
            tt: TranslationType(0),
            np: NumberingPlan::ISDN_TELEPHONY,
            nai: NatureOfAddress::INTERNATIONAL,
            address: GtAddress::Bcd(Digits::new(digits).unwrap()),
        },
        Some(Ssn(146)),
    )
}

/// TCAP → UDT (GTI 4 both ways) → M3UA DATA, appended to `out`.
fn wrap(out: &mut BytesMut, scratch: &mut BytesMut, tcap: &[u8], to_scp: bool) {
    let (msc, scp) = (gt("447900000001"), gt("447900000900"));
    let (called, calling) = if to_scp { (scp, msc) } else { (msc, scp) };
    scratch.clear();
    Sccp::Udt(Udt {
        protocol_class: ProtocolClass {
            class: Class::Class1,
            return_on_error: true,
        },
        called,
        calling,
        data: tcap,
    })
    .encode(scratch)
    .unwrap();
    M3ua::from(Body::Data(Data {
        network_appearance: None,
        routing_context: Some(1),
        protocol_data: ProtocolData {
            opc: if to_scp { 101 } else { 202 },
            dpc: if to_scp { 202 } else { 101 },
            si: SI_SCCP,
            ni: 2,
            mp: 0,
            sls: 7,
            user_data: Cow::Borrowed(&scratch[..]),
        },
        correlation_id: None,
    }))
    .encode(out)
    .unwrap();
}

/// Our encoder: the MSC's TC-BEGIN with InitialDP, full stack.
fn encode_begin(out: &mut BytesMut, s: &mut Scratch, idp: &Operation<'_>) {
    s.param.clear();
    idp.encode(Dialect::CapV4, &mut s.param);
    s.comps.clear();
    write_invoke(&mut s.comps, 1, None, &Code::Local(0), Some(&s.param));
    s.tcap.clear();
    Tcap::Begin(Begin {
        otid: TransactionId::from_u32(0x0a0b_0c0d),
        dialogue: Some(DialoguePortion::Aarq(Aarq::new(
            ObjectId::from_encoded(AC_V4).unwrap(),
        ))),
        components: Some(ComponentPortion::new(&s.comps)),
    })
    .encode(&mut s.tcap);
    out.clear();
    wrap(out, &mut s.sccp, &s.tcap, true);
}

/// Our encoder: the SCP's TC-CONTINUE with RRBE + ApplyCharging + Connect, full stack.
fn encode_continue(out: &mut BytesMut, s: &mut Scratch, ops: &[Operation<'_>]) {
    s.comps.clear();
    for (i, op) in ops.iter().enumerate() {
        s.param.clear();
        op.encode(Dialect::CapV4, &mut s.param);
        write_invoke(
            &mut s.comps,
            i as i8 + 1,
            None,
            &Code::Local(op.opcode().0),
            Some(&s.param),
        );
    }
    s.tcap.clear();
    Tcap::Continue(Continue {
        otid: TransactionId::from_u32(0x5343_5001),
        dtid: TransactionId::from_u32(0x0a0b_0c0d),
        dialogue: Some(DialoguePortion::Aare(Aare::accepted(
            ObjectId::from_encoded(AC_V4).unwrap(),
        ))),
        components: Some(ComponentPortion::new(&s.comps)),
    })
    .encode(&mut s.tcap);
    out.clear();
    wrap(out, &mut s.sccp, &s.tcap, false);
}

#[derive(Default)]
struct Scratch {
    param: BytesMut,
    comps: BytesMut,
    tcap: BytesMut,
    sccp: BytesMut,
}

/// M3UA → SCCP: the TCAP bytes (ours, zero-copy).
fn lower(wire: &[u8]) -> &[u8] {
    let m = M3ua::decode(wire).unwrap();
    let Body::Data(d) = m.body else {
        panic!("not DATA")
    };
    let Cow::Borrowed(ud) = d.protocol_data.user_data else {
        unreachable!("decode borrows")
    };
    strowger_sccp::decode(ud).unwrap().data()
}

/// Our full-stack decode: every CAP argument decoded; returns a checksum of fields read.
fn ours_decode(wire: &[u8]) -> u64 {
    ours_decode_tcap(lower(wire))
}

/// Our TCAP + CAP decode of the TCAP bytes.
fn ours_decode_tcap(tcap: &[u8]) -> u64 {
    let m = Tcap::decode(tcap).unwrap();
    let dialect = m
        .dialogue_portion()
        .and_then(|d| d.application_context())
        .and_then(|ac| dialect_from_oid(ac.as_bytes()))
        .unwrap();
    let mut sum = 0u64;
    for c in m.components().unwrap().iter() {
        let Component::Invoke(i) = c.unwrap() else {
            panic!("invoke expected")
        };
        let code = OpCode(i.opcode.local().unwrap());
        let op = Operation::decode(dialect, code, i.parameter.map(|t| t.raw)).unwrap();
        sum += match op {
            Operation::InitialDp(a) => {
                u64::from(a.service_key) + a.imsi.map_or(0, |x| x.len() as u64)
            }
            Operation::RequestReportBcsmEvent(a) => a.bcsm_events.len() as u64,
            Operation::ApplyCharging(_) => 1,
            Operation::Connect(a) => a.destination_routing_address.len() as u64,
            _ => 0,
        };
    }
    sum
}

/// rasn: `tcap` 3 + `gsm_cap` 4 decode of the TCAP bytes.
fn rasn_decode_tcap(tcap_bytes: &[u8]) -> u64 {
    let m = tcap::decode(tcap_bytes).unwrap();
    let mut sum = 0u64;
    for c in m.components() {
        let tcap::Component::Invoke(i) = c else {
            panic!("invoke expected")
        };
        let tcap::OperationCode::Local(code) = i.operation_code else {
            panic!("local")
        };
        let p = i.parameter.as_ref().unwrap().as_bytes();
        sum += match code {
            0 => {
                let a: gsm_cap::operations::InitialDpArg = gsm_cap::decode(p).unwrap();
                u64::try_from(&a.service_key).unwrap() + a.imsi.map_or(0, |x| x.len() as u64)
            }
            23 => {
                let a: gsm_cap::operations::RequestReportBcsmEventArg = gsm_cap::decode(p).unwrap();
                a.bcsm_events.len() as u64
            }
            35 => {
                let _: gsm_cap::operations::ApplyChargingArg = gsm_cap::decode(p).unwrap();
                1
            }
            20 => {
                let a: gsm_cap::operations::ConnectArg = gsm_cap::decode(p).unwrap();
                a.destination_routing_address[0].len() as u64
            }
            _ => 0,
        };
    }
    sum
}

fn rasn_decode(wire: &[u8]) -> u64 {
    rasn_decode_tcap(lower(wire))
}

/// The CAP arguments of a TCAP message as gsm_cap values (built once, outside the timing).
enum GArg {
    Idp(Box<gsm_cap::operations::InitialDpArg>),
    Rrbe(gsm_cap::operations::RequestReportBcsmEventArg),
    Ach(gsm_cap::operations::ApplyChargingArg),
    Connect(Box<gsm_cap::operations::ConnectArg>),
}

fn rasn_args(tcap_bytes: &[u8]) -> (tcap::TcapMessage, Vec<GArg>) {
    let m = tcap::decode(tcap_bytes).unwrap();
    let args = m
        .components()
        .iter()
        .map(|c| {
            let tcap::Component::Invoke(i) = c else {
                panic!()
            };
            let p = i.parameter.as_ref().unwrap().as_bytes();
            match i.operation_code {
                tcap::OperationCode::Local(0) => GArg::Idp(Box::new(gsm_cap::decode(p).unwrap())),
                tcap::OperationCode::Local(23) => GArg::Rrbe(gsm_cap::decode(p).unwrap()),
                tcap::OperationCode::Local(35) => GArg::Ach(gsm_cap::decode(p).unwrap()),
                tcap::OperationCode::Local(20) => {
                    GArg::Connect(Box::new(gsm_cap::decode(p).unwrap()))
                }
                _ => panic!(),
            }
        })
        .collect();
    (m, args)
}

/// rasn encode: every CAP argument by gsm_cap, then the TCAP message by tcap.
fn rasn_encode(template: &tcap::TcapMessage, args: &[GArg]) -> Vec<u8> {
    let mut msg = template.clone();
    let comps = match &mut msg {
        tcap::TcapMessage::Begin(b) => b.components.as_mut().unwrap(),
        tcap::TcapMessage::Continue(c) => c.components.as_mut().unwrap(),
        _ => unreachable!(),
    };
    for (c, a) in comps.iter_mut().zip(args) {
        let tcap::Component::Invoke(i) = c else {
            unreachable!()
        };
        let bytes = match a {
            GArg::Idp(x) => gsm_cap::encode(&**x),
            GArg::Rrbe(x) => gsm_cap::encode(x),
            GArg::Ach(x) => gsm_cap::encode(x),
            GArg::Connect(x) => gsm_cap::encode(&**x),
        }
        .unwrap();
        i.parameter = Some(rasn::types::Any::new(bytes));
    }
    tcap::encode(&msg).unwrap()
}

/// Our TCAP + CAP encode (same work as `rasn_encode`: arguments, components, message).
fn ours_encode_tcap(s: &mut Scratch, begin: bool, ops: &[Operation<'_>]) -> usize {
    s.comps.clear();
    for (i, op) in ops.iter().enumerate() {
        s.param.clear();
        op.encode(Dialect::CapV4, &mut s.param);
        write_invoke(
            &mut s.comps,
            i as i8 + 1,
            None,
            &Code::Local(op.opcode().0),
            Some(&s.param),
        );
    }
    s.tcap.clear();
    let ac = ObjectId::from_encoded(AC_V4).unwrap();
    let cp = Some(ComponentPortion::new(&s.comps));
    if begin {
        Tcap::Begin(Begin {
            otid: TransactionId::from_u32(0x0a0b_0c0d),
            dialogue: Some(DialoguePortion::Aarq(Aarq::new(ac))),
            components: cp,
        })
    } else {
        Tcap::Continue(Continue {
            otid: TransactionId::from_u32(0x5343_5001),
            dtid: TransactionId::from_u32(0x0a0b_0c0d),
            dialogue: Some(DialoguePortion::Aare(Aare::accepted(ac))),
            components: cp,
        })
    }
    .encode(&mut s.tcap);
    s.tcap.len()
}

/// Allocations per call of `f` (averaged over `n` calls, after one warm-up call).
fn allocs_per_op(n: u64, mut f: impl FnMut()) -> f64 {
    f();
    let before = ALLOCS.load(Ordering::Relaxed);
    for _ in 0..n {
        f();
    }
    (ALLOCS.load(Ordering::Relaxed) - before) as f64 / n as f64
}

/// Interleaved timing of two functions: `rounds` rounds of `batch` calls each, alternating;
/// returns the median ns per call of each.
fn interleaved(rounds: usize, batch: u32, mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    let mut ta = Vec::with_capacity(rounds);
    let mut tb = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..batch {
            a();
        }
        ta.push(t.elapsed().as_nanos() as f64 / f64::from(batch));
        let t = Instant::now();
        for _ in 0..batch {
            b();
        }
        tb.push(t.elapsed().as_nanos() as f64 / f64::from(batch));
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|x, y| x.partial_cmp(y).unwrap());
        v[v.len() / 2]
    };
    (med(&mut ta), med(&mut tb))
}

struct Inputs {
    begin_wire: Vec<u8>,
    continue_wire: Vec<u8>,
    begin_tcap: Vec<u8>,
    continue_tcap: Vec<u8>,
}

fn inputs(idp: &Operation<'_>, answer: &[Operation<'_>]) -> Inputs {
    let mut s = Scratch::default();
    let mut out = BytesMut::new();
    encode_begin(&mut out, &mut s, idp);
    let begin_wire = out.to_vec();
    let begin_tcap = lower(&begin_wire).to_vec();
    encode_continue(&mut out, &mut s, answer);
    let continue_wire = out.to_vec();
    let continue_tcap = lower(&continue_wire).to_vec();
    Inputs {
        begin_wire,
        continue_wire,
        begin_tcap,
        continue_tcap,
    }
}

const EVENTS: [BcsmEvent<'static>; 4] = [
    BcsmEvent {
        event_type: EventTypeBcsm::O_CALLED_PARTY_BUSY,
        monitor_mode: MonitorMode::INTERRUPTED,
        leg_id: Some(LegId::Sending(LegType::LEG2)),
        dp_specific_criteria: None,
        automatic_rearm: false,
    },
    BcsmEvent {
        event_type: EventTypeBcsm::O_NO_ANSWER,
        monitor_mode: MonitorMode::INTERRUPTED,
        leg_id: Some(LegId::Sending(LegType::LEG2)),
        dp_specific_criteria: None,
        automatic_rearm: false,
    },
    BcsmEvent {
        event_type: EventTypeBcsm::O_ANSWER,
        monitor_mode: MonitorMode::NOTIFY_AND_CONTINUE,
        leg_id: Some(LegId::Sending(LegType::LEG2)),
        dp_specific_criteria: None,
        automatic_rearm: false,
    },
    BcsmEvent {
        event_type: EventTypeBcsm::O_DISCONNECT,
        monitor_mode: MonitorMode::INTERRUPTED,
        leg_id: Some(LegId::Sending(LegType::LEG1)),
        dp_specific_criteria: None,
        automatic_rearm: false,
    },
];

/// Q.763 Called Party Number, international, "12125550102".
const DEST: &[u8] = &[0x84, 0x90, 0x21, 0x21, 0x55, 0x05, 0x01, 0x02];

fn answer() -> [Operation<'static>; 3] {
    [
        Operation::RequestReportBcsmEvent(RequestReportBcsmEvent {
            bcsm_events: List::Items(&EVENTS),
            extensions: None,
        }),
        Operation::ApplyCharging(ApplyCharging::time_duration(TimeDurationCharging::new(
            1200, true,
        ))),
        Operation::Connect(Connect::to(DEST)),
    ]
}

/// The interleaved summary printed before the criterion groups (the README table).
fn summary() {
    let idp_bytes = idp_param();
    let idp = Operation::decode(Dialect::CapV4, OpCode::INITIAL_DP, Some(&idp_bytes)).unwrap();
    let ans = answer();
    let inp = inputs(&idp, &ans);
    let (t_begin, a_begin) = rasn_args(&inp.begin_tcap);
    let (t_cont, a_cont) = rasn_args(&inp.continue_tcap);
    assert_eq!(ours_decode(&inp.begin_wire), rasn_decode(&inp.begin_wire));
    assert_eq!(
        ours_decode(&inp.continue_wire),
        rasn_decode(&inp.continue_wire)
    );
    // gsm_cap + tcap re-encode our bytes exactly (same DER-like definite-length choices).
    assert_eq!(rasn_encode(&t_begin, &a_begin), inp.begin_tcap);
    assert_eq!(rasn_encode(&t_cont, &a_cont), inp.continue_tcap);

    let mut s = Scratch::default();
    let mut out = BytesMut::new();
    println!(
        "\nstack summary (interleaved, median of 15 rounds; M3UA {} / {} bytes, TCAP {} / {} bytes)",
        inp.begin_wire.len(),
        inp.continue_wire.len(),
        inp.begin_tcap.len(),
        inp.continue_tcap.len()
    );
    println!("| operation | strowger ns/op | strowger allocs/op | rasn ns/op | rasn allocs/op | speed-up |");
    println!("|---|---:|---:|---:|---:|---:|");
    let row = |name: &str, ours: &mut dyn FnMut(), theirs: &mut dyn FnMut()| {
        let oa = allocs_per_op(1000, &mut *ours);
        let ra = allocs_per_op(1000, &mut *theirs);
        let (o, r) = interleaved(15, 2000, &mut *ours, &mut *theirs);
        println!(
            "| {name} | {o:.0} | {oa:.1} | {r:.0} | {ra:.1} | {:.1}x |",
            r / o
        );
    };
    row(
        "decode TC-BEGIN InitialDP, full stack (M3UA→CAP)",
        &mut || {
            black_box(ours_decode(black_box(&inp.begin_wire)));
        },
        &mut || {
            black_box(rasn_decode(black_box(&inp.begin_wire)));
        },
    );
    row(
        "decode TC-BEGIN InitialDP, TCAP+CAP only",
        &mut || {
            black_box(ours_decode_tcap(black_box(&inp.begin_tcap)));
        },
        &mut || {
            black_box(rasn_decode_tcap(black_box(&inp.begin_tcap)));
        },
    );
    row(
        "decode TC-CONTINUE RRBE+ACH+CON, full stack",
        &mut || {
            black_box(ours_decode(black_box(&inp.continue_wire)));
        },
        &mut || {
            black_box(rasn_decode(black_box(&inp.continue_wire)));
        },
    );
    let mut s2 = Scratch::default();
    row(
        "encode TC-BEGIN InitialDP, TCAP+CAP",
        &mut || {
            black_box(ours_encode_tcap(&mut s2, true, std::slice::from_ref(&idp)));
        },
        &mut || {
            black_box(rasn_encode(&t_begin, &a_begin));
        },
    );
    row(
        "encode TC-CONTINUE RRBE+ACH+CON, TCAP+CAP",
        &mut || {
            black_box(ours_encode_tcap(&mut s2, false, &ans));
        },
        &mut || {
            black_box(rasn_encode(&t_cont, &a_cont));
        },
    );
    let oa = allocs_per_op(1000, || encode_begin(&mut out, &mut s, &idp));
    let (o, _) = interleaved(15, 2000, || encode_begin(&mut out, &mut s, &idp), || {});
    println!(
        "| encode TC-BEGIN InitialDP, full stack (ours only) | {o:.0} | {oa:.1} | – | – | – |"
    );
    let oa = allocs_per_op(1000, || encode_continue(&mut out, &mut s, &ans));
    let (o, _) = interleaved(15, 2000, || encode_continue(&mut out, &mut s, &ans), || {});
    println!(
        "| encode TC-CONTINUE RRBE+ACH+CON, full stack (ours only) | {o:.0} | {oa:.1} | – | – | – |\n"
    );
}

fn benches(c: &mut Criterion) {
    let idp_bytes = idp_param();
    let idp = Operation::decode(Dialect::CapV4, OpCode::INITIAL_DP, Some(&idp_bytes)).unwrap();
    let ans = answer();
    let inp = inputs(&idp, &ans);
    let (t_begin, a_begin) = rasn_args(&inp.begin_tcap);
    let (t_cont, a_cont) = rasn_args(&inp.continue_tcap);

    let mut g = c.benchmark_group("decode_begin_initialdp");
    g.throughput(Throughput::Bytes(inp.begin_wire.len() as u64));
    g.bench_function("strowger_full_stack", |b| {
        b.iter(|| ours_decode(black_box(&inp.begin_wire)))
    });
    g.bench_function("rasn_tcap_gsm_cap_full_stack", |b| {
        b.iter(|| rasn_decode(black_box(&inp.begin_wire)))
    });
    g.finish();

    let mut g = c.benchmark_group("decode_continue_answer");
    g.throughput(Throughput::Bytes(inp.continue_wire.len() as u64));
    g.bench_function("strowger_full_stack", |b| {
        b.iter(|| ours_decode(black_box(&inp.continue_wire)))
    });
    g.bench_function("rasn_tcap_gsm_cap_full_stack", |b| {
        b.iter(|| rasn_decode(black_box(&inp.continue_wire)))
    });
    g.finish();

    let mut g = c.benchmark_group("encode_begin_initialdp");
    let mut s = Scratch::default();
    let mut out = BytesMut::with_capacity(512);
    g.throughput(Throughput::Bytes(inp.begin_wire.len() as u64));
    g.bench_function("strowger_full_stack", |b| {
        b.iter(|| encode_begin(&mut out, &mut s, black_box(&idp)))
    });
    g.bench_function("strowger_tcap_cap", |b| {
        b.iter(|| ours_encode_tcap(&mut s, true, std::slice::from_ref(black_box(&idp))))
    });
    g.bench_function("rasn_tcap_gsm_cap", |b| {
        b.iter(|| rasn_encode(black_box(&t_begin), &a_begin))
    });
    g.finish();

    let mut g = c.benchmark_group("encode_continue_answer");
    g.throughput(Throughput::Bytes(inp.continue_wire.len() as u64));
    g.bench_function("strowger_full_stack", |b| {
        b.iter(|| encode_continue(&mut out, &mut s, black_box(&ans)))
    });
    g.bench_function("strowger_tcap_cap", |b| {
        b.iter(|| ours_encode_tcap(&mut s, false, black_box(&ans)))
    });
    g.bench_function("rasn_tcap_gsm_cap", |b| {
        b.iter(|| rasn_encode(black_box(&t_cont), &a_cont))
    });
    g.finish();
}

criterion_group! {
    name = stack;
    config = Criterion::default().warm_up_time(Duration::from_secs(1));
    targets = benches
}

fn main() {
    summary();
    stack();
    Criterion::default().configure_from_args().final_summary();
}
