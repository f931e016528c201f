//! `SEQUENCE OF` / `SET OF` values without heap allocation.
//!
//! A decoded list keeps the validated contents octets and decodes its items again on each
//! iteration (items are small and lists short); a list built for encoding borrows a slice.

use std::fmt;

use bytes::BytesMut;
use strowger_ber::{Reader, Tlv};

use crate::error::{ber, CapResult};

/// An item of a [`List`].
pub trait ListItem<'a>: Sized + Copy {
    /// The ASN.1 name of the item type, for errors.
    const WHAT: &'static str;
    /// Decode one item from its TLV.
    fn decode_item(tlv: Tlv<'a>) -> CapResult<Self>;
    /// Encode one item (its complete TLV).
    fn encode_item(&self, buf: &mut BytesMut);
}

/// A `SEQUENCE OF T`: either decoded from the wire or built from a slice.
#[derive(Clone, Copy)]
pub enum List<'a, T> {
    /// Contents octets of a received list, every item already validated.
    Encoded(&'a [u8]),
    /// Items to encode.
    Items(&'a [T]),
}

impl<'a, T: ListItem<'a>> List<'a, T> {
    /// Validate the contents octets of a received list (at least `min` items).
    pub(crate) fn decode(contents: &'a [u8], min: usize) -> CapResult<Self> {
        let mut r = Reader::new(contents);
        let mut n = 0;
        while let Some(t) = r.next_tlv().map_err(ber(T::WHAT))? {
            T::decode_item(t)?;
            n += 1;
        }
        if n < min {
            return Err(crate::CapError::MissingParameter(T::WHAT));
        }
        Ok(List::Encoded(contents))
    }

    /// The items, in order.
    #[inline]
    pub fn iter(&self) -> ListIter<'a, T> {
        match *self {
            List::Encoded(c) => ListIter::Encoded(Reader::new(c)),
            List::Items(s) => ListIter::Items(s.iter()),
        }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        match *self {
            // Items were validated when the list was decoded: counting the TLVs is enough.
            List::Encoded(c) => {
                let mut r = Reader::new(c);
                let mut n = 0;
                while let Ok(Some(_)) = r.next_tlv() {
                    n += 1;
                }
                n
            }
            List::Items(s) => s.len(),
        }
    }

    /// True when the list has no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first item, if any.
    pub fn first(&self) -> Option<T> {
        self.iter().next()
    }

    /// Write every item (the contents of the enclosing SEQUENCE OF).
    pub(crate) fn encode_items(&self, buf: &mut BytesMut) {
        match self {
            List::Encoded(c) => buf.extend_from_slice(c),
            List::Items(s) => s.iter().for_each(|i| i.encode_item(buf)),
        }
    }
}

/// Iterator over a [`List`].
pub enum ListIter<'a, T> {
    /// Over received contents.
    Encoded(Reader<'a>),
    /// Over a slice.
    Items(std::slice::Iter<'a, T>),
}

impl<'a, T: ListItem<'a>> Iterator for ListIter<'a, T> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        match self {
            // Items were validated when the list was decoded, so errors cannot occur here.
            ListIter::Encoded(r) => r
                .next_tlv()
                .ok()
                .flatten()
                .and_then(|t| T::decode_item(t).ok()),
            ListIter::Items(i) => i.next().copied(),
        }
    }
}

impl<'a, T: ListItem<'a> + PartialEq> PartialEq for List<'a, T> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<'a, T: ListItem<'a> + fmt::Debug> fmt::Debug for List<'a, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
