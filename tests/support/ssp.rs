//! A test SSP built from the protocol crates: one M3UA/TCP link (ASP side), TCAP messages
//! built and read component by component (no dialogue state machine, so the SCP's is tested
//! from outside), CAP arguments from `strowger-cap`.
#![allow(dead_code, unreachable_pub)]

use std::borrow::Cow;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use strowger_cap::numbers::{AddressString, CallingPartyNumber, NatureOfAddress};
use strowger_cap::ops::{
    ApplyChargingReport, CallResult, EventReportBcsm, InitialDp, TimeDurationChargingResult,
    TimeInformation,
};
use strowger_cap::{Dialect, EventTypeBcsm, LegType, MessageType as CapMsgType, OpCode, Operation};
use strowger_m3ua::{Association, Event as M3uaEvent, Framer, ProtocolData, Role};
use strowger_sccp::{Message as SccpMessage, PointCode, ProtocolClass, SccpAddress, Ssn, Udt};
use strowger_tcap::component::{write_invoke, write_return_result};
use strowger_tcap::{
    Aarq, AbortCause, Begin, Code, Component, ComponentPortion, Continue, DialoguePortion, Message,
    ObjectId, TransactionId,
};

/// CAP v2 gsmSSF-to-gsmSCF application context.
pub const CAP_V2: &[u8] = &[0x04, 0x00, 0x00, 0x01, 0x00, 0x32, 0x01];
/// CAP v3 gsmSSF-to-gsmSCF application context.
pub const CAP_V3: &[u8] = &[0x04, 0x00, 0x00, 0x01, 0x15, 0x03, 0x04];

/// One received TCAP message, summarised.
#[derive(Debug, Clone)]
pub struct Reply {
    pub kind: &'static str,
    pub otid: Option<u32>,
    pub dtid: Option<u32>,
    /// Invokes: (invoke id, opcode, parameter TLV).
    pub invokes: Vec<(i8, i64, Option<Vec<u8>>)>,
    /// ReturnResult(Last) invoke ids.
    pub results: Vec<i8>,
    /// Reject invoke ids and problem (debug text).
    pub rejects: Vec<(Option<i8>, String)>,
    /// Abort cause (debug text).
    pub abort: Option<String>,
    /// Dialogue portion (debug text).
    pub dialogue: Option<String>,
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn opcodes(&self) -> Vec<i64> {
        self.invokes.iter().map(|(_, op, _)| *op).collect()
    }
    pub fn op(&self, code: OpCode) -> Option<Operation<'_>> {
        self.invokes
            .iter()
            .find(|(_, op, _)| *op == code.0)
            .map(|(_, op, p)| {
                Operation::decode(Dialect::CapV2, OpCode(*op), p.as_deref()).expect("valid CAP")
            })
    }
}

pub fn summarise(raw: &[u8]) -> Reply {
    let msg = Message::decode(raw).expect("SCP sent valid TCAP");
    let kind = match &msg {
        Message::Begin(_) => "begin",
        Message::Continue(_) => "continue",
        Message::End(_) => "end",
        Message::Abort(_) => "abort",
        Message::Unidirectional(_) => "unidirectional",
    };
    let mut r = Reply {
        kind,
        otid: msg.otid().map(|t| t.to_u32()),
        dtid: msg.dtid().map(|t| t.to_u32()),
        invokes: Vec::new(),
        results: Vec::new(),
        rejects: Vec::new(),
        abort: None,
        dialogue: msg.dialogue_portion().map(|d| format!("{d:?}")),
        raw: raw.to_vec(),
    };
    if let Message::Abort(a) = &msg {
        r.abort = a.reason.as_ref().map(|c| match c {
            AbortCause::PAbort(p) => format!("{p:?}"),
            AbortCause::UAbort(d) => format!("{d:?}"),
        });
    }
    if let Some(cp) = msg.components() {
        for c in cp.iter() {
            match c.expect("valid component") {
                Component::Invoke(i) => r.invokes.push((
                    i.invoke_id,
                    match i.opcode {
                        Code::Local(v) => v,
                        Code::Global(_) => -1,
                    },
                    i.parameter.map(|t| t.raw.to_vec()),
                )),
                Component::ReturnResultLast(x) | Component::ReturnResultNotLast(x) => {
                    r.results.push(x.invoke_id)
                }
                Component::Reject(j) => r.rejects.push((j.invoke_id, format!("{:?}", j.problem))),
                Component::ReturnError(_) => {}
            }
        }
    }
    r
}

/// The SSP side of one link.
pub struct Ssp {
    stream: TcpStream,
    assoc: Association,
    framer: Framer,
    buf: BytesMut,
    pub opc: u32,
    pub dpc: u32,
    pub called: SccpAddress,
    pub calling: SccpAddress,
    pub return_on_error: bool,
    /// DATA received but not yet read (SCCP user data).
    inbox: Vec<Bytes>,
    next_tid: u32,
}

impl Ssp {
    /// Connect and complete ASP Up / ASP Active (routing context 1).
    pub fn connect(addr: SocketAddr) -> Ssp {
        let stream = TcpStream::connect(addr).expect("connect to the SCP");
        stream.set_nodelay(true).unwrap();
        let config = strowger_m3ua::Config {
            routing_contexts: vec![1],
            ..Default::default()
        };
        let mut s = Ssp {
            stream,
            assoc: Association::new(Role::Asp, config),
            framer: Framer::default(),
            buf: BytesMut::with_capacity(65536),
            opc: 1,
            dpc: 2,
            called: SccpAddress::route_on_ssn(Some(PointCode(2)), Ssn(146)),
            calling: SccpAddress::route_on_ssn(Some(PointCode(1)), Ssn(146)),
            return_on_error: false,
            inbox: Vec::new(),
            next_tid: 0x1000_0000,
        };
        s.assoc.start(Instant::now()).unwrap();
        s.flush();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !s.assoc.is_active() {
            assert!(Instant::now() < deadline, "M3UA handshake timed out");
            s.pump(Duration::from_millis(200));
        }
        s
    }

    /// A fresh transaction id for a Begin.
    pub fn tid(&mut self) -> TransactionId {
        self.next_tid += 1;
        TransactionId::from_u32(self.next_tid)
    }

    fn flush(&mut self) {
        while let Some(t) = self.assoc.poll_transmit() {
            self.stream.write_all(&t.payload).unwrap();
        }
    }

    /// Read what is available (up to `wait`) and run it through the M3UA state machine.
    pub fn pump(&mut self, wait: Duration) -> bool {
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut tmp = [0u8; 65536];
        let got = match self.stream.read(&mut tmp) {
            Ok(0) => return false,
            Ok(n) => n,
            Err(_) => 0,
        };
        self.buf.extend_from_slice(&tmp[..got]);
        while let Ok(Some(frame)) = self.framer.next_frame(&mut self.buf) {
            self.assoc.handle_frame(Instant::now(), frame);
        }
        while let Some(ev) = self.assoc.poll_event() {
            if let M3uaEvent::Data(d) = ev {
                self.inbox.push(d.user_data);
            }
        }
        self.flush();
        got > 0
    }

    /// Send raw SCCP user data (a TCAP message) in a UDT.
    pub fn send_tcap(&mut self, tcap: &[u8]) {
        let udt = Udt {
            protocol_class: ProtocolClass {
                class: strowger_sccp::Class::Class0,
                return_on_error: self.return_on_error,
            },
            called: self.called,
            calling: self.calling,
            data: tcap,
        };
        let mut sccp = BytesMut::new();
        SccpMessage::Udt(udt).encode(&mut sccp).unwrap();
        self.send_sccp(&sccp);
    }

    /// Send raw SCCP bytes in M3UA DATA.
    pub fn send_sccp(&mut self, sccp: &[u8]) {
        let pd = ProtocolData {
            opc: self.opc,
            dpc: self.dpc,
            si: 3,
            ni: 2,
            mp: 0,
            sls: 5,
            user_data: Cow::Borrowed(sccp),
        };
        self.assoc.send_data(Some(1), &pd).unwrap();
        self.flush();
    }

    /// The next SCCP message received (raw), waiting up to `wait`.
    pub fn recv_sccp(&mut self, wait: Duration) -> Option<Bytes> {
        let deadline = Instant::now() + wait;
        loop {
            if !self.inbox.is_empty() {
                return Some(self.inbox.remove(0));
            }
            if Instant::now() >= deadline {
                return None;
            }
            if !self.pump(Duration::from_millis(50)) && self.inbox.is_empty() {
                // Connection closed or nothing yet.
            }
        }
    }

    /// The next TCAP message received, summarised.
    pub fn recv(&mut self, wait: Duration) -> Option<Reply> {
        let sccp = self.recv_sccp(wait)?;
        let m = SccpMessage::decode(&sccp).expect("SCP sent valid SCCP");
        Some(summarise(m.data()))
    }

    /// Expect a reply within 5 s.
    pub fn expect(&mut self) -> Reply {
        self.recv(Duration::from_secs(5))
            .expect("a reply from the SCP")
    }

    /// Expect nothing for `wait`.
    pub fn expect_silence(&mut self, wait: Duration) {
        if let Some(r) = self.recv(wait) {
            panic!("unexpected message from the SCP: {r:?}");
        }
    }
}

/// Components to send.
#[derive(Default)]
pub struct Components {
    buf: BytesMut,
}

impl Components {
    pub fn invoke(
        mut self,
        id: i8,
        op: OpCode,
        dialect: Dialect,
        arg: Option<&Operation<'_>>,
    ) -> Self {
        let mut p = BytesMut::new();
        if let Some(a) = arg {
            a.encode(dialect, &mut p);
        }
        write_invoke(
            &mut self.buf,
            id,
            None,
            &Code::Local(op.0),
            arg.map(|_| &p[..]),
        );
        self
    }
    pub fn raw_invoke(mut self, id: i8, op: i64, param: Option<&[u8]>) -> Self {
        write_invoke(&mut self.buf, id, None, &Code::Local(op), param);
        self
    }
    pub fn result(mut self, id: i8, op: OpCode, param: Option<&[u8]>) -> Self {
        let code = Code::Local(op.0);
        write_return_result(&mut self.buf, id, Some((&code, param)), true);
        self
    }
    pub fn raw(mut self, bytes: &[u8]) -> Self {
        self.buf.extend_from_slice(bytes);
        self
    }
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// A TC-BEGIN with an AARQ for `ac`.
pub fn begin(otid: TransactionId, ac: &[u8], comps: &Components) -> Vec<u8> {
    let mut out = BytesMut::new();
    Begin {
        otid,
        dialogue: Some(DialoguePortion::Aarq(Aarq::new(
            ObjectId::from_encoded(ac).unwrap(),
        ))),
        components: Some(ComponentPortion::new(comps.bytes())),
    }
    .encode(&mut out);
    out.to_vec()
}

/// A TC-CONTINUE.
pub fn cont(otid: TransactionId, dtid: u32, comps: &Components) -> Vec<u8> {
    let mut out = BytesMut::new();
    Continue {
        otid,
        dtid: TransactionId::from_u32(dtid),
        dialogue: None,
        components: Some(ComponentPortion::new(comps.bytes())),
    }
    .encode(&mut out);
    out.to_vec()
}

/// An InitialDP for a mobile-originated call (calledPartyBCDNumber, as an MSC sends it).
pub fn idp(service_key: u32, calling: &str, dialled: &str) -> Vec<u8> {
    idp_ton(service_key, calling, dialled, 0)
}

/// An EventReportBCSM.
pub fn erb(event: EventTypeBcsm, leg: u8) -> Vec<u8> {
    let e = EventReportBcsm {
        event_type: event,
        event_specific_information: None,
        leg_id: Some(LegType(leg)),
        message_type: CapMsgType::Request,
        extensions: None,
    };
    let mut p = BytesMut::new();
    Operation::EventReportBcsm(e).encode(Dialect::CapV2, &mut p);
    p.to_vec()
}

/// An ApplyChargingReport with timeIfNoTariffSwitch = `elapsed_100ms`.
pub fn acr(elapsed_100ms: u32, call_active: bool) -> Vec<u8> {
    let r = ApplyChargingReport {
        call_result: CallResult::TimeDuration(TimeDurationChargingResult {
            party_to_charge: LegType(1),
            time_information: TimeInformation::NoTariffSwitch(elapsed_100ms),
            leg_active: call_active,
            call_leg_released_at_tcp_expiry: false,
            extensions: None,
        }),
    };
    let mut p = BytesMut::new();
    Operation::ApplyChargingReport(r).encode(Dialect::CapV2, &mut p);
    p.to_vec()
}

/// An InitialDP whose calledPartyBCDNumber has the given 24.008 type of number (0 unknown,
/// 1 international, 2 national).
pub fn idp_ton(service_key: u32, calling: &str, dialled: &str, ton: u8) -> Vec<u8> {
    let calling = CallingPartyNumber {
        nai: NatureOfAddress::INTERNATIONAL,
        ni: false,
        npi: strowger_cap::numbers::NumberingPlan::ISDN,
        presentation: strowger_cap::numbers::Presentation::ALLOWED,
        screening: strowger_cap::numbers::Screening::NETWORK_PROVIDED,
        digits: strowger_cap::numbers::Digits::from_str(calling).unwrap(),
    }
    .encode()
    .unwrap();
    let called = AddressString {
        nature: ton,
        npi: 1,
        digits: strowger_cap::numbers::Digits::from_str(dialled).unwrap(),
    }
    .encode()
    .unwrap();
    let mut idp = InitialDp {
        service_key,
        ..Default::default()
    };
    idp.calling_party_number = Some(calling.as_bytes());
    idp.called_party_bcd_number = Some(called.as_bytes());
    idp.event_type_bcsm = Some(EventTypeBcsm::COLLECTED_INFO);
    let mut p = BytesMut::new();
    Operation::InitialDp(idp).encode(Dialect::CapV2, &mut p);
    p.to_vec()
}

/// A SpecializedResourceReport argument (CAP v2: NULL).
pub fn srr() -> Vec<u8> {
    let mut p = BytesMut::new();
    Operation::SpecializedResourceReport(
        strowger_cap::ops::SpecializedResourceReport::AllAnnouncementsComplete,
    )
    .encode(Dialect::CapV2, &mut p);
    p.to_vec()
}

/// The ReturnResult parameter of PromptAndCollectUserInformation: digitsResponse (BCD).
pub fn digits_response(digits: &str) -> Vec<u8> {
    let g = strowger_cap::numbers::GenericDigits::bcd(digits)
        .unwrap()
        .encode()
        .unwrap();
    let mut p = BytesMut::new();
    strowger_cap::ops::ReceivedInformation::DigitsResponse(g.as_bytes())
        .encode(Dialect::CapV2, &mut p);
    p.to_vec()
}

/// A TC-U-ABORT without a dialogue portion, addressed to the SCP's transaction `dtid`.
pub fn u_abort(dtid: u32) -> Vec<u8> {
    let mut out = BytesMut::new();
    strowger_tcap::Abort {
        dtid: TransactionId::from_u32(dtid),
        reason: None,
    }
    .encode(&mut out);
    out.to_vec()
}

impl Reply {
    /// The invoke id of the first invoke of `code`.
    pub fn invoke_id(&self, code: OpCode) -> Option<i8> {
        self.invokes
            .iter()
            .find(|(_, op, _)| *op == code.0)
            .map(|(id, _, _)| *id)
    }
    /// The Q.850 cause value of the ReleaseCall in this message.
    pub fn release_cause(&self) -> Option<u8> {
        match self.op(OpCode::RELEASE_CALL)? {
            Operation::ReleaseCall(r) => Some(r.decoded_cause().expect("valid cause").value.0),
            _ => None,
        }
    }
    /// The elementary message id of the PlayAnnouncement in this message.
    pub fn announcement(&self) -> Option<u32> {
        match self.op(OpCode::PLAY_ANNOUNCEMENT)? {
            Operation::PlayAnnouncement(p) => match p.information_to_send {
                strowger_cap::ops::InformationToSend::InbandInfo(i) => match i.message_id {
                    strowger_cap::ops::MessageId::ElementaryMessageId(id) => Some(id),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }
    /// (maxCallPeriodDuration, releaseIfdurationExceeded, tone) of the ApplyCharging.
    pub fn apply_charging(&self) -> Option<(u32, bool, bool)> {
        match self.op(OpCode::APPLY_CHARGING)? {
            Operation::ApplyCharging(ac) => match ac.ach_billing {
                strowger_cap::ops::AChBilling::TimeDuration(t) => Some((
                    t.max_call_period_duration,
                    t.release_if_duration_exceeded,
                    t.tone,
                )),
                _ => None,
            },
            _ => None,
        }
    }
    /// The Connect's destinationRoutingAddress digits.
    pub fn connect_digits(&self) -> Option<String> {
        match self.op(OpCode::CONNECT)? {
            Operation::Connect(c) => Some(c.destination().unwrap().digits.as_str().to_owned()),
            _ => None,
        }
    }
    /// (prompt announcement, min digits, max digits) of the PromptAndCollectUserInformation.
    pub fn prompt(&self) -> Option<(u32, u8, u8)> {
        match self.op(OpCode::PROMPT_AND_COLLECT_USER_INFORMATION)? {
            Operation::PromptAndCollectUserInformation(p) => {
                let ann = match p.information_to_send? {
                    strowger_cap::ops::InformationToSend::InbandInfo(i) => match i.message_id {
                        strowger_cap::ops::MessageId::ElementaryMessageId(id) => id,
                        _ => return None,
                    },
                    _ => return None,
                };
                match p.collected_info {
                    strowger_cap::ops::CollectedInfo::CollectedDigits(d) => {
                        Some((ann, d.minimum_nb_of_digits, d.maximum_nb_of_digits))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

impl Reply {
    /// The events armed by the RequestReportBCSMEvent: (event, monitor mode, leg).
    pub fn armed(&self) -> Vec<(EventTypeBcsm, strowger_cap::MonitorMode, Option<u8>)> {
        match self.op(OpCode::REQUEST_REPORT_BCSM_EVENT) {
            Some(Operation::RequestReportBcsmEvent(r)) => r
                .bcsm_events
                .iter()
                .map(|e| (e.event_type, e.monitor_mode, e.leg_id.map(|l| l.leg().0)))
                .collect(),
            _ => Vec::new(),
        }
    }
    /// The nature of address of the Connect's destinationRoutingAddress.
    pub fn connect_nature(&self) -> Option<NatureOfAddress> {
        match self.op(OpCode::CONNECT)? {
            Operation::Connect(c) => Some(c.destination().unwrap().nai),
            _ => None,
        }
    }
}

impl Reply {
    /// (maxCallPeriodDuration, releaseIfdurationExceeded, tone) of the ApplyCharging, decoded
    /// in `dialect`.
    pub fn apply_charging_in(&self, dialect: Dialect) -> Option<(u32, bool, bool)> {
        let (_, _, p) = self
            .invokes
            .iter()
            .find(|(_, op, _)| *op == OpCode::APPLY_CHARGING.0)?;
        match Operation::decode(dialect, OpCode::APPLY_CHARGING, p.as_deref()).expect("valid CAP") {
            Operation::ApplyCharging(ac) => match ac.ach_billing {
                strowger_cap::ops::AChBilling::TimeDuration(t) => Some((
                    t.max_call_period_duration,
                    t.release_if_duration_exceeded,
                    t.tone,
                )),
                _ => None,
            },
            _ => None,
        }
    }
}
