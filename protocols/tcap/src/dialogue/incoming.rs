//! The events of one received message, produced lazily and in order.

use crate::component::Components;

use super::{Dialogue, Event};

/// Iterator over the events of a received message (see [`Dialogue::handle`]). Components
/// are decoded and checked against the invocation state as it advances; dropping it
/// processes the rest, so the dialogue state is always complete.
#[derive(Debug)]
pub struct Incoming<'d, 'a> {
    dlg: Option<&'d mut Dialogue>,
    pub(super) pre: Option<Event<'static>>,
    pub(super) comps: Option<Components<'a>>,
    pub(super) can_reply: bool,
    pub(super) post: Option<Event<'static>>,
    pub(super) close_after: bool,
}

impl<'d, 'a> Incoming<'d, 'a> {
    pub(super) fn new() -> Self {
        Incoming {
            dlg: None,
            pre: None,
            comps: None,
            can_reply: false,
            post: None,
            close_after: false,
        }
    }

    pub(super) fn with(mut self, dlg: &'d mut Dialogue) -> Self {
        self.dlg = Some(dlg);
        self
    }
}

impl<'a> Iterator for Incoming<'_, 'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        if let Some(e) = self.pre.take() {
            return Some(e);
        }
        let dlg = self.dlg.as_deref_mut()?;
        if let Some(comps) = &mut self.comps {
            if let Some(c) = comps.next() {
                return Some(dlg.on_component(c, self.can_reply));
            }
            self.comps = None;
        }
        dlg.finish_incoming(std::mem::take(&mut self.close_after));
        self.post.take()
    }
}

impl Drop for Incoming<'_, '_> {
    fn drop(&mut self) {
        while self.next().is_some() {}
    }
}
