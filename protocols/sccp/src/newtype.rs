//! The open-newtype pattern used for every Q.713 code point.
//!
//! A code point is a transparent wrapper around its raw value with named associated constants, so a
//! value this crate does not know still decodes and re-encodes unchanged. `Debug` prints
//! `Type::NAME` for a known value and `Type(n)` otherwise.

/// Declares an open `u8` newtype with named constants.
macro_rules! open_u8 {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$cmeta:meta])* $cname:ident = $val:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u8);

        impl $name {
            $( $(#[$cmeta])* pub const $cname: $name = $name($val); )*

            /// The name of this code point, if the crate knows it.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $val => Some(stringify!($cname)), )*
                    _ => None,
                }
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => write!(f, concat!(stringify!($name), "::{}"), n),
                    None => write!(f, concat!(stringify!($name), "({})"), self.0),
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                core::fmt::Debug::fmt(self, f)
            }
        }

        impl From<u8> for $name {
            fn from(v: u8) -> Self {
                $name(v)
            }
        }

        impl From<$name> for u8 {
            fn from(v: $name) -> u8 {
                v.0
            }
        }
    };
}

pub(crate) use open_u8;
