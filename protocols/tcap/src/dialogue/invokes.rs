//! Invocation tracking (Q.774 §3.2.1, the invocation state machine): our outstanding
//! invokes with their operation class and timer, and the peer's invokes still awaiting our
//! answer, for duplicate detection.

use std::time::Instant;

use crate::component::{Code, InvokeId};

/// How many of our invocations may be outstanding at once in one dialogue.
pub const MAX_OUTSTANDING: usize = 32;

/// The operation class (Q.771 §2.3.1.2): which outcomes the invoker expects reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperationClass {
    /// Success (ReturnResult) and failure (ReturnError) are reported.
    Class1,
    /// Only failure is reported.
    Class2,
    /// Only success is reported.
    Class3,
    /// Neither is reported.
    Class4,
}

impl OperationClass {
    /// May a ReturnResult answer this operation?
    pub fn result_expected(self) -> bool {
        matches!(self, OperationClass::Class1 | OperationClass::Class3)
    }
    /// May a ReturnError answer this operation?
    pub fn error_expected(self) -> bool {
        matches!(self, OperationClass::Class1 | OperationClass::Class2)
    }
}

/// One of our invocations awaiting its outcome, in 24 bytes (a dialogue keeps a few for
/// most of its life): the operation code inline when it is a local code of 32 bits (every CAP
/// and INAP operation), else (a global code: rare) the whole entry boxed.
#[derive(Debug)]
pub(crate) enum Outstanding {
    Small {
        id: InvokeId,
        class: OperationClass,
        opcode: i32,
        deadline: Instant,
    },
    Large(Box<LargeOutstanding>),
}

#[derive(Debug)]
pub(crate) struct LargeOutstanding {
    id: InvokeId,
    class: OperationClass,
    opcode: Code,
    deadline: Instant,
}

impl Outstanding {
    fn new(id: InvokeId, opcode: Code, class: OperationClass, deadline: Instant) -> Self {
        match opcode {
            Code::Local(v) => match i32::try_from(v) {
                Ok(opcode) => Outstanding::Small {
                    id,
                    class,
                    opcode,
                    deadline,
                },
                Err(_) => Self::large(id, opcode, class, deadline),
            },
            Code::Global(_) => Self::large(id, opcode, class, deadline),
        }
    }

    fn large(id: InvokeId, opcode: Code, class: OperationClass, deadline: Instant) -> Self {
        Outstanding::Large(Box::new(LargeOutstanding {
            id,
            class,
            opcode,
            deadline,
        }))
    }

    pub(crate) fn id(&self) -> InvokeId {
        match self {
            Outstanding::Small { id, .. } => *id,
            Outstanding::Large(o) => o.id,
        }
    }

    pub(crate) fn class(&self) -> OperationClass {
        match self {
            Outstanding::Small { class, .. } => *class,
            Outstanding::Large(o) => o.class,
        }
    }

    pub(crate) fn opcode(&self) -> Code {
        match self {
            Outstanding::Small { opcode, .. } => Code::Local(i64::from(*opcode)),
            Outstanding::Large(o) => o.opcode,
        }
    }

    pub(crate) fn deadline(&self) -> Instant {
        match self {
            Outstanding::Small { deadline, .. } => *deadline,
            Outstanding::Large(o) => o.deadline,
        }
    }
}

/// Our invocations live in slots (at most [`MAX_OUTSTANDING`]); a new one takes the first free
/// slot. The slots are a `Vec` holding no free slot at its end (empty and unallocated while
/// nothing is outstanding), grown one slot at a time, so a dialogue with a few invocations
/// carries only those.
#[derive(Debug)]
pub(crate) struct Invokes {
    ours: Vec<Option<Outstanding>>,
    /// The peer's invoke ids not yet answered.
    peer_active: PeerIds,
}

/// A set of invoke ids, one bit per id. Peers number their invokes from 0 or 1 up, so the
/// first 64 ids are kept inline and the other 192 bits only once an id among them is used.
#[derive(Debug, Default)]
struct PeerIds {
    low: u64,
    high: Option<Box<[u64; 3]>>,
}

impl PeerIds {
    fn bit(id: InvokeId) -> (usize, u64) {
        let i = usize::from(id as u8);
        (i / 64, 1u64 << (i % 64))
    }

    fn contains(&self, id: InvokeId) -> bool {
        match Self::bit(id) {
            (0, m) => self.low & m != 0,
            (w, m) => self.high.as_ref().is_some_and(|h| h[w - 1] & m != 0),
        }
    }

    fn insert(&mut self, id: InvokeId) {
        match Self::bit(id) {
            (0, m) => self.low |= m,
            (w, m) => self.high.get_or_insert_with(Box::default)[w - 1] |= m,
        }
    }

    fn remove(&mut self, id: InvokeId) {
        match Self::bit(id) {
            (0, m) => self.low &= !m,
            (w, m) => {
                if let Some(h) = &mut self.high {
                    h[w - 1] &= !m;
                    if h.iter().all(|&x| x == 0) {
                        self.high = None;
                    }
                }
            }
        }
    }
}

impl Invokes {
    pub(crate) fn new() -> Self {
        Invokes {
            ours: Vec::new(),
            peer_active: PeerIds::default(),
        }
    }

    pub(crate) fn get(&self, id: InvokeId) -> Option<&Outstanding> {
        self.ours.iter().flatten().find(|o| o.id() == id)
    }

    pub(crate) fn remove(&mut self, id: InvokeId) -> Option<Outstanding> {
        let i = self
            .ours
            .iter()
            .position(|o| o.as_ref().is_some_and(|o| o.id() == id))?;
        self.free(i)
    }

    /// Empty slot `i`, drop the free slots at the end (the memory too once none is left).
    fn free(&mut self, i: usize) -> Option<Outstanding> {
        let o = self.ours[i].take();
        while let Some(None) = self.ours.last() {
            self.ours.pop();
        }
        if self.ours.is_empty() {
            self.ours = Vec::new();
        }
        o
    }

    pub(crate) fn count(&self) -> usize {
        self.ours.iter().flatten().count()
    }

    /// Room for `n` more invocations in as few slots as the table can still take.
    pub(crate) fn reserve(&mut self, n: usize) {
        let free = self.ours.iter().filter(|o| o.is_none()).count();
        let room = MAX_OUTSTANDING.saturating_sub(self.ours.len());
        let more = n.saturating_sub(free).min(room);
        if more > 0 {
            self.ours.reserve_exact(more);
        }
    }

    /// Allocate an id not in use, trying `next_id` first (and moving it past the id taken),
    /// and track the invocation; `None` when the table is full. The dialogue keeps `next_id`
    /// (among its other one-byte fields: here it would cost eight bytes of padding).
    pub(crate) fn start(
        &mut self,
        next_id: &mut InvokeId,
        opcode: Code,
        class: OperationClass,
        deadline: Instant,
    ) -> Option<InvokeId> {
        let slot = match self.ours.iter().position(Option::is_none) {
            Some(i) => i,
            None if self.ours.len() < MAX_OUTSTANDING => {
                // One slot more, not the doubling `push` would do: a call keeps its few
                // invocations outstanding (class 2: until their timer) for most of its life.
                self.ours.reserve_exact(1);
                self.ours.push(None);
                self.ours.len() - 1
            }
            None => return None,
        };
        let mut id = *next_id;
        while self.get(id).is_some() {
            id = id.wrapping_add(1);
        }
        *next_id = id.wrapping_add(1);
        self.ours[slot] = Some(Outstanding::new(id, opcode, class, deadline));
        Some(id)
    }

    pub(crate) fn earliest(&self) -> Option<Instant> {
        self.ours.iter().flatten().map(Outstanding::deadline).min()
    }

    pub(crate) fn take_expired(&mut self, now: Instant) -> Option<Outstanding> {
        let i = self
            .ours
            .iter()
            .position(|o| o.as_ref().is_some_and(|o| o.deadline() <= now))?;
        self.free(i)
    }

    pub(crate) fn peer_is_active(&self, id: InvokeId) -> bool {
        self.peer_active.contains(id)
    }

    pub(crate) fn peer_start(&mut self, id: InvokeId) {
        self.peer_active.insert(id);
    }

    pub(crate) fn peer_done(&mut self, id: InvokeId) {
        self.peer_active.remove(id);
    }

    pub(crate) fn clear(&mut self) {
        self.ours = Vec::new();
        self.peer_active = PeerIds::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oid::ObjectId;

    #[test]
    fn peer_ids_cover_every_id() {
        let mut s = PeerIds::default();
        for id in InvokeId::MIN..=InvokeId::MAX {
            assert!(!s.contains(id));
            s.insert(id);
            assert!(s.contains(id));
        }
        for id in InvokeId::MIN..=InvokeId::MAX {
            s.remove(id);
            assert!(!s.contains(id));
        }
        assert_eq!(s.low, 0);
        assert!(
            s.high.is_none(),
            "the high ids' memory is freed once none is set"
        );
        s.insert(3);
        s.insert(100);
        s.remove(100);
        assert!(s.contains(3) && s.high.is_none());
    }

    #[test]
    fn slots_are_small_and_keep_every_code() {
        assert_eq!(size_of::<Option<Outstanding>>(), 24);
        let t = Instant::now();
        let oid: ObjectId = "0.4.0.0.1.0.50.1".parse().unwrap();
        for code in [
            Code::Local(0),
            Code::Local(-1),
            Code::Local(i64::from(i32::MAX)),
            Code::Local(i64::from(i32::MIN) - 1),
            Code::Local(i64::MAX),
            Code::Global(oid),
        ] {
            let o = Outstanding::new(7, code, OperationClass::Class3, t);
            assert_eq!(
                (o.id(), o.opcode(), o.class(), o.deadline()),
                (7, code, OperationClass::Class3, t)
            );
        }
    }

    #[test]
    fn slots_grow_one_at_a_time() {
        let mut inv = Invokes::new();
        let mut next = 1;
        let t = Instant::now();
        for n in 1..=3 {
            inv.start(&mut next, Code::Local(0), OperationClass::Class2, t);
            assert_eq!(inv.ours.capacity(), n);
        }
    }

    #[test]
    fn reserved_slots_take_a_batch_at_once() {
        let mut inv = Invokes::new();
        let mut next = 1;
        let t = Instant::now();
        inv.start(&mut next, Code::Local(0), OperationClass::Class2, t);
        // Room for three more (none is free): three new slots.
        inv.reserve(3);
        assert_eq!(inv.ours.capacity(), 4);
        for _ in 0..3 {
            inv.start(&mut next, Code::Local(0), OperationClass::Class2, t);
            assert_eq!(inv.ours.capacity(), 4, "no growth inside the batch");
        }
        // A free slot counts: reserving one more after a removal adds nothing.
        inv.remove(2);
        inv.reserve(1);
        assert_eq!(inv.ours.capacity(), 4);
    }
}
