//! Journal record framing and the compact binary encoding of [`Event`]s.
//!
//! A record is `len: u32 LE | crc: u32 LE | seq: u64 LE | payload[len]`, where `crc` is CRC-32C
//! over `len | seq | payload`. Integers inside the payload are little-endian fixed width; the
//! first payload byte is a format/kind tag so the encoding can evolve.

use crate::prepaid::{AccountId, CallId, Money, OpKey, PrepaidResponse, Refusal};

use super::account::{AccountState, Event, EventKind, UnixSecs};

/// Bytes before the payload.
pub const HEADER_LEN: usize = 16;
/// Largest payload accepted (events are tiny; anything bigger is corruption).
pub const MAX_PAYLOAD: usize = 64 * 1024;
/// Longest account id accepted.
pub const MAX_ACCOUNT_ID: usize = 1024;

/// A payload could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("undecodable payload: {0}")]
pub struct DecodeError(pub &'static str);

/// Little-endian writer into a byte vector.
#[derive(Default)]
pub struct Enc {
    /// The bytes written so far.
    pub buf: Vec<u8>,
}

impl Enc {
    /// Write a byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    /// Write a u32.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// Write a u64.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// Write an i64.
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// Write a length-prefixed string (u16 length).
    pub fn str(&mut self, s: &str) {
        let b = s.as_bytes();
        let n = b.len().min(MAX_ACCOUNT_ID);
        self.buf.extend_from_slice(&(n as u16).to_le_bytes());
        self.buf.extend_from_slice(&b[..n]);
    }
    /// Write an optional u64.
    pub fn opt_u64(&mut self, v: Option<u64>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.u64(v);
            }
        }
    }
    /// Write an operation key.
    pub fn key(&mut self, k: OpKey) {
        self.u64(k.call.0);
        self.u32(k.seq);
    }
    /// Write a refusal code.
    pub fn refusal(&mut self, r: Refusal) {
        self.u8(match r {
            Refusal::UnknownAccount => 1,
            Refusal::Suspended => 2,
            Refusal::Expired => 3,
            Refusal::InsufficientBalance => 4,
            Refusal::LedgerUnavailable => 5,
        })
    }
    /// Write an account state.
    pub fn state(&mut self, s: AccountState) {
        self.u8(match s {
            AccountState::Active => 0,
            AccountState::Suspended => 1,
            AccountState::Expired => 2,
        })
    }
    /// Write a prepaid response.
    pub fn response(&mut self, r: &PrepaidResponse) {
        match r {
            PrepaidResponse::Authenticated { available } => {
                self.u8(0);
                self.i64(*available)
            }
            PrepaidResponse::Granted { granted } => {
                self.u8(1);
                self.i64(*granted)
            }
            PrepaidResponse::Deducted { amount } => {
                self.u8(2);
                self.i64(*amount)
            }
            PrepaidResponse::Returned { amount } => {
                self.u8(3);
                self.i64(*amount)
            }
            PrepaidResponse::Refused(r) => {
                self.u8(4);
                self.refusal(*r)
            }
        }
    }
}

/// Little-endian reader over a byte slice.
pub struct Dec<'a> {
    buf: &'a [u8],
}

impl<'a> Dec<'a> {
    /// Read from `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Dec { buf }
    }
    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError("truncated"));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }
    /// Read a byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    /// Read a u32.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }
    /// Read a u64.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }
    /// Read an i64.
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(self.u64()? as i64)
    }
    /// Read a u16-length-prefixed UTF-8 string.
    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        let mut a = [0u8; 2];
        a.copy_from_slice(self.take(2)?);
        let n = u16::from_le_bytes(a) as usize;
        std::str::from_utf8(self.take(n)?).map_err(|_| DecodeError("account id not UTF-8"))
    }
    /// Read an optional u64.
    pub fn opt_u64(&mut self) -> Result<Option<u64>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.u64()?)),
            _ => Err(DecodeError("bad option tag")),
        }
    }
    /// Read an operation key.
    pub fn key(&mut self) -> Result<OpKey, DecodeError> {
        Ok(OpKey {
            call: CallId(self.u64()?),
            seq: self.u32()?,
        })
    }
    /// Read a refusal code.
    pub fn refusal(&mut self) -> Result<Refusal, DecodeError> {
        Ok(match self.u8()? {
            1 => Refusal::UnknownAccount,
            2 => Refusal::Suspended,
            3 => Refusal::Expired,
            4 => Refusal::InsufficientBalance,
            5 => Refusal::LedgerUnavailable,
            _ => return Err(DecodeError("bad refusal code")),
        })
    }
    /// Read an account state.
    pub fn state(&mut self) -> Result<AccountState, DecodeError> {
        Ok(match self.u8()? {
            0 => AccountState::Active,
            1 => AccountState::Suspended,
            2 => AccountState::Expired,
            _ => return Err(DecodeError("bad account state")),
        })
    }
    /// Read a prepaid response.
    pub fn response(&mut self) -> Result<PrepaidResponse, DecodeError> {
        Ok(match self.u8()? {
            0 => PrepaidResponse::Authenticated {
                available: self.i64()?,
            },
            1 => PrepaidResponse::Granted {
                granted: self.i64()?,
            },
            2 => PrepaidResponse::Deducted {
                amount: self.i64()?,
            },
            3 => PrepaidResponse::Returned {
                amount: self.i64()?,
            },
            4 => PrepaidResponse::Refused(self.refusal()?),
            _ => return Err(DecodeError("bad response tag")),
        })
    }
}

const T_UPSERT: u8 = 1;
const T_TOPUP: u8 = 2;
const T_ADJUST: u8 = 3;
const T_APPLIED: u8 = 4;
const T_REAPPLIED: u8 = 5;
const T_DEDUCTED: u8 = 6;
const T_RETURNED: u8 = 7;
const T_EXPIRED: u8 = 8;

/// Encode an event's payload.
pub fn encode_event(ev: &Event, e: &mut Enc) {
    let tag = match ev.kind {
        EventKind::AccountUpserted { .. } => T_UPSERT,
        EventKind::TopUp { .. } => T_TOPUP,
        EventKind::Adjust { .. } => T_ADJUST,
        EventKind::Applied { .. } => T_APPLIED,
        EventKind::Reapplied { .. } => T_REAPPLIED,
        EventKind::Deducted { .. } => T_DEDUCTED,
        EventKind::Returned { .. } => T_RETURNED,
        EventKind::Expired { .. } => T_EXPIRED,
    };
    e.u8(tag);
    e.str(ev.account.as_str());
    e.u64(ev.at);
    match ev.kind {
        EventKind::AccountUpserted {
            state,
            expiry,
            opening_balance,
        } => {
            e.state(state);
            e.opt_u64(expiry);
            e.i64(opening_balance);
        }
        EventKind::TopUp { amount } | EventKind::Adjust { amount } => e.i64(amount),
        EventKind::Applied {
            key,
            granted,
            deadline,
        } => {
            e.key(key);
            e.i64(granted);
            e.u64(deadline);
        }
        EventKind::Reapplied {
            key,
            used,
            returned,
            granted,
            deadline,
            refusal,
        } => {
            e.key(key);
            e.i64(used);
            e.i64(returned);
            e.i64(granted);
            e.u64(deadline);
            match refusal {
                None => e.u8(0),
                Some(r) => e.refusal(r),
            }
        }
        EventKind::Deducted {
            key,
            amount,
            deadline,
        } => {
            e.key(key);
            e.i64(amount);
            e.u64(deadline);
        }
        EventKind::Returned { key, amount } => {
            e.key(key);
            e.i64(amount);
        }
        EventKind::Expired {
            call,
            charged,
            returned,
        } => {
            e.u64(call.0);
            e.i64(charged);
            e.i64(returned);
        }
    }
}

/// Decode an event's payload (the whole slice must be consumed).
pub fn decode_event(buf: &[u8]) -> Result<Event, DecodeError> {
    let mut d = Dec::new(buf);
    let tag = d.u8()?;
    let account = AccountId::new(d.str()?);
    let at: UnixSecs = d.u64()?;
    let kind = match tag {
        T_UPSERT => EventKind::AccountUpserted {
            state: d.state()?,
            expiry: d.opt_u64()?,
            opening_balance: d.i64()?,
        },
        T_TOPUP => EventKind::TopUp { amount: d.i64()? },
        T_ADJUST => EventKind::Adjust { amount: d.i64()? },
        T_APPLIED => EventKind::Applied {
            key: d.key()?,
            granted: d.i64()?,
            deadline: d.u64()?,
        },
        T_REAPPLIED => {
            let key = d.key()?;
            let used: Money = d.i64()?;
            let returned = d.i64()?;
            let granted = d.i64()?;
            let deadline = d.u64()?;
            let refusal = match d.u8()? {
                0 => None,
                n => Some(Dec::new(&[n]).refusal()?),
            };
            EventKind::Reapplied {
                key,
                used,
                returned,
                granted,
                deadline,
                refusal,
            }
        }
        T_DEDUCTED => EventKind::Deducted {
            key: d.key()?,
            amount: d.i64()?,
            deadline: d.u64()?,
        },
        T_RETURNED => EventKind::Returned {
            key: d.key()?,
            amount: d.i64()?,
        },
        T_EXPIRED => EventKind::Expired {
            call: CallId(d.u64()?),
            charged: d.i64()?,
            returned: d.i64()?,
        },
        _ => return Err(DecodeError("unknown event tag")),
    };
    if d.remaining() != 0 {
        return Err(DecodeError("trailing bytes"));
    }
    Ok(Event { account, at, kind })
}

fn record_crc(len: u32, seq: u64, payload: &[u8]) -> u32 {
    let mut h = [0u8; 12];
    h[..4].copy_from_slice(&len.to_le_bytes());
    h[4..].copy_from_slice(&seq.to_le_bytes());
    crc32c::crc32c_append(crc32c::crc32c(&h), payload)
}

/// Append a framed record to `out`.
pub fn frame_record(seq: u64, payload: &[u8], out: &mut Vec<u8>) {
    let len = payload.len() as u32;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&record_crc(len, seq, payload).to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(payload);
}

/// The outcome of trying to read one record at the start of `buf`.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadRecord<'a> {
    /// A good record of `total` bytes.
    Ok {
        /// Its sequence number.
        seq: u64,
        /// Its payload.
        payload: &'a [u8],
        /// Bytes taken, header included.
        total: usize,
    },
    /// Fewer bytes than the header or the announced payload.
    Incomplete,
    /// Length out of range or checksum mismatch.
    Bad,
}

/// Read one record at the start of `buf`.
pub fn read_record(buf: &[u8]) -> ReadRecord<'_> {
    if buf.len() < HEADER_LEN {
        return ReadRecord::Incomplete;
    }
    let len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let crc = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
    let mut s = [0u8; 8];
    s.copy_from_slice(&buf[8..16]);
    let seq = u64::from_le_bytes(s);
    let n = len as usize;
    if n > MAX_PAYLOAD {
        return ReadRecord::Bad;
    }
    if buf.len() < HEADER_LEN + n {
        return ReadRecord::Incomplete;
    }
    let payload = &buf[HEADER_LEN..HEADER_LEN + n];
    if record_crc(len, seq, payload) != crc {
        return ReadRecord::Bad;
    }
    ReadRecord::Ok {
        seq,
        payload,
        total: HEADER_LEN + n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(c: u64, s: u32) -> OpKey {
        OpKey {
            call: CallId(c),
            seq: s,
        }
    }

    #[test]
    fn events_round_trip() {
        let a = AccountId::new("ACC-1");
        let kinds = vec![
            EventKind::AccountUpserted {
                state: AccountState::Suspended,
                expiry: Some(99),
                opening_balance: 5,
            },
            EventKind::AccountUpserted {
                state: AccountState::Active,
                expiry: None,
                opening_balance: 0,
            },
            EventKind::TopUp { amount: 7 },
            EventKind::Adjust { amount: -7 },
            EventKind::Applied {
                key: k(1, 0),
                granted: 10,
                deadline: 100,
            },
            EventKind::Reapplied {
                key: k(1, 1),
                used: 3,
                returned: 7,
                granted: 0,
                deadline: 5,
                refusal: Some(Refusal::Suspended),
            },
            EventKind::Reapplied {
                key: k(1, 2),
                used: 3,
                returned: 7,
                granted: 9,
                deadline: 5,
                refusal: None,
            },
            EventKind::Deducted {
                key: k(u64::MAX, u32::MAX),
                amount: i64::MAX,
                deadline: 1,
            },
            EventKind::Returned {
                key: k(2, 3),
                amount: 0,
            },
            EventKind::Expired {
                call: CallId(4),
                charged: 1,
                returned: 2,
            },
        ];
        for kind in kinds {
            let ev = Event {
                account: a.clone(),
                at: 1234,
                kind,
            };
            let mut e = Enc::default();
            encode_event(&ev, &mut e);
            assert_eq!(decode_event(&e.buf).unwrap(), ev);
            let mut rec = Vec::new();
            frame_record(42, &e.buf, &mut rec);
            match read_record(&rec) {
                ReadRecord::Ok {
                    seq,
                    payload,
                    total,
                } => {
                    assert_eq!((seq, payload, total), (42, &e.buf[..], rec.len()));
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(read_record(&rec[..rec.len() - 1]), ReadRecord::Incomplete);
            let mut bad = rec.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert_eq!(read_record(&bad), ReadRecord::Bad);
        }
    }
}
