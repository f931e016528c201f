//! Identifier octets (X.690 §8.1.2).

use std::fmt;

/// The tag class, bits 8–7 of the first identifier octet.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// UNIVERSAL
    Universal = 0,
    /// APPLICATION
    Application = 1,
    /// context-specific
    Context = 2,
    /// PRIVATE
    Private = 3,
}

/// A BER tag: class, primitive/constructed, and number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    /// The class.
    pub class: Class,
    /// True for a constructed encoding.
    pub constructed: bool,
    /// The tag number.
    pub number: u32,
}

impl Tag {
    /// UNIVERSAL 1, BOOLEAN.
    pub const BOOLEAN: Tag = Tag::universal(1);
    /// UNIVERSAL 2, INTEGER.
    pub const INTEGER: Tag = Tag::universal(2);
    /// UNIVERSAL 3, BIT STRING.
    pub const BIT_STRING: Tag = Tag::universal(3);
    /// UNIVERSAL 4, OCTET STRING (primitive).
    pub const OCTET_STRING: Tag = Tag::universal(4);
    /// UNIVERSAL 5, NULL.
    pub const NULL: Tag = Tag::universal(5);
    /// UNIVERSAL 6, OBJECT IDENTIFIER.
    pub const OID: Tag = Tag::universal(6);
    /// UNIVERSAL 8, EXTERNAL (constructed).
    pub const EXTERNAL: Tag = Tag {
        class: Class::Universal,
        constructed: true,
        number: 8,
    };
    /// UNIVERSAL 10, ENUMERATED.
    pub const ENUMERATED: Tag = Tag::universal(10);
    /// UNIVERSAL 16, SEQUENCE (constructed).
    pub const SEQUENCE: Tag = Tag {
        class: Class::Universal,
        constructed: true,
        number: 16,
    };
    /// UNIVERSAL 17, SET (constructed).
    pub const SET: Tag = Tag {
        class: Class::Universal,
        constructed: true,
        number: 17,
    };

    /// The tag of a one-octet identifier (the number is the low five bits; callers handle
    /// the long form, number 31, themselves).
    #[inline]
    pub(crate) const fn from_short(first: u8) -> Tag {
        Tag {
            class: match first >> 6 {
                0 => Class::Universal,
                1 => Class::Application,
                2 => Class::Context,
                _ => Class::Private,
            },
            constructed: first & 0x20 != 0,
            number: (first & 0x1f) as u32,
        }
    }

    /// A primitive UNIVERSAL tag.
    #[inline]
    pub const fn universal(number: u32) -> Tag {
        Tag {
            class: Class::Universal,
            constructed: false,
            number,
        }
    }
    /// A primitive context-specific tag `[n]`.
    #[inline]
    pub const fn ctx(number: u32) -> Tag {
        Tag {
            class: Class::Context,
            constructed: false,
            number,
        }
    }
    /// A constructed context-specific tag `[n]`.
    #[inline]
    pub const fn ctx_cons(number: u32) -> Tag {
        Tag {
            class: Class::Context,
            constructed: true,
            number,
        }
    }
    /// A primitive APPLICATION tag.
    #[inline]
    pub const fn app(number: u32) -> Tag {
        Tag {
            class: Class::Application,
            constructed: false,
            number,
        }
    }
    /// A constructed APPLICATION tag.
    #[inline]
    pub const fn app_cons(number: u32) -> Tag {
        Tag {
            class: Class::Application,
            constructed: true,
            number,
        }
    }
    /// The same class and number with the constructed bit set.
    #[inline]
    pub const fn as_constructed(self) -> Tag {
        Tag {
            constructed: true,
            ..self
        }
    }
    /// The same class and number with the constructed bit clear.
    #[inline]
    pub const fn as_primitive(self) -> Tag {
        Tag {
            constructed: false,
            ..self
        }
    }
    /// True if class and number match, whatever the constructed bit.
    #[inline]
    pub fn same_number(self, other: Tag) -> bool {
        self.class == other.class && self.number == other.number
    }
    /// Number of octets the identifier takes when encoded.
    #[inline]
    pub fn encoded_len(self) -> usize {
        if self.number < 31 {
            1
        } else {
            let bits = 32 - self.number.leading_zeros() as usize;
            1 + bits.div_ceil(7)
        }
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = if self.constructed { "c" } else { "p" };
        match self.class {
            Class::Universal => write!(f, "UNIVERSAL {}{}", self.number, c),
            Class::Application => write!(f, "[APPLICATION {}]{}", self.number, c),
            Class::Context => write!(f, "[{}]{}", self.number, c),
            Class::Private => write!(f, "[PRIVATE {}]{}", self.number, c),
        }
    }
}

impl fmt::Debug for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Class::Universal => "UNIVERSAL",
            Class::Application => "APPLICATION",
            Class::Context => "CONTEXT",
            Class::Private => "PRIVATE",
        })
    }
}
