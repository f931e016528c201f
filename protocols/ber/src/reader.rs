//! A cursor over the components of a constructed value (SEQUENCE, SET, CHOICE bodies).
//!
//! Like rustls' sub-readers: each constructed value is read through its own `Reader`, which
//! complains about trailing bytes by name and skips unknown extension components (those
//! after `...` in the ASN.1) when asked to.

use crate::error::{BerError, BerResult};
use crate::tag::Tag;
use crate::tlv::{tlv_at, Tlv};

/// Reads components from the contents of one constructed value.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
    depth: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `contents` at nesting depth 0.
    #[inline]
    pub fn new(contents: &'a [u8]) -> Self {
        Reader {
            rest: contents,
            depth: 0,
        }
    }

    /// A reader over the contents of `tlv`, which must be constructed.
    #[inline]
    pub fn of(tlv: Tlv<'a>) -> BerResult<Self> {
        if !tlv.tag.constructed {
            return Err(BerError::Invalid("primitive where constructed expected"));
        }
        Ok(Reader::new(tlv.value))
    }

    /// A reader over the contents of a nested value, one level deeper.
    #[inline]
    pub fn nested(&self, tlv: Tlv<'a>) -> BerResult<Self> {
        let mut r = Reader::of(tlv)?;
        r.depth = self.depth + 1;
        if r.depth > crate::tlv::MAX_DEPTH {
            return Err(BerError::TooDeep);
        }
        Ok(r)
    }

    /// True when every component has been read.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The bytes not yet read.
    #[inline]
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    /// Look at the next component's tag without consuming it.
    #[inline]
    pub fn peek_tag(&self) -> BerResult<Option<Tag>> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        Ok(Some(self.peek()?.tag))
    }

    #[inline]
    fn peek(&self) -> BerResult<Tlv<'a>> {
        let (tlv, _) = tlv_at(self.rest, self.depth)?;
        Ok(tlv)
    }

    /// Read the next component, if any.
    #[inline]
    pub fn next_tlv(&mut self) -> BerResult<Option<Tlv<'a>>> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let (tlv, rest) = tlv_at(self.rest, self.depth)?;
        self.rest = rest;
        Ok(Some(tlv))
    }

    /// Read the next component, which must exist and carry `tag`; `what` names it in errors.
    #[inline]
    pub fn expect(&mut self, tag: Tag, what: &'static str) -> BerResult<Tlv<'a>> {
        match self.next_tlv()? {
            Some(tlv) => tlv.expect(tag),
            None => Err(BerError::Missing(what)),
        }
    }

    /// Read the next component if it carries `tag` (an OPTIONAL or DEFAULT component).
    #[inline]
    pub fn optional(&mut self, tag: Tag) -> BerResult<Option<Tlv<'a>>> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let (tlv, rest) = tlv_at(self.rest, self.depth)?;
        if tlv.tag == tag {
            self.rest = rest;
            Ok(Some(tlv))
        } else {
            Ok(None)
        }
    }

    /// Skip components until one with `tag` is found and read it (for SEQUENCEs with OPTIONAL
    /// fields we do not act on); `None`, with everything consumed, if there is none.
    #[inline]
    pub fn skip_to(&mut self, tag: Tag) -> BerResult<Option<Tlv<'a>>> {
        while let Some(t) = self.peek_tag()? {
            if t == tag {
                return self.next_tlv();
            }
            self.next_tlv()?;
        }
        Ok(None)
    }

    /// Skip whatever is left (extension additions after `...`), still checking that it is
    /// well-formed BER.
    #[inline]
    pub fn skip_rest(&mut self) -> BerResult<()> {
        while self.next_tlv()?.is_some() {}
        Ok(())
    }

    /// Fail if anything is left; `what` names the enclosing value.
    #[inline]
    pub fn finish(&self, what: &'static str) -> BerResult<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(BerError::Trailing(what))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_optional_and_skips_extensions() {
        // SEQUENCE contents: [0] 05, [2] 0102, [9] ff (unknown extension)
        let body = [0x80, 0x01, 0x05, 0x82, 0x02, 0x01, 0x02, 0x89, 0x01, 0xff];
        let mut r = Reader::new(&body);
        assert_eq!(r.expect(Tag::ctx(0), "a").unwrap().value, &[5]);
        assert!(r.optional(Tag::ctx(1)).unwrap().is_none());
        assert_eq!(r.optional(Tag::ctx(2)).unwrap().unwrap().value, &[1, 2]);
        assert!(r.finish("x").is_err());
        r.skip_rest().unwrap();
        r.finish("x").unwrap();
        let mut r = Reader::new(&[]);
        assert_eq!(r.expect(Tag::ctx(0), "a"), Err(BerError::Missing("a")));
    }
}
