//! The open-newtype pattern for code points (rusticata style).
//!
//! A code point read from the wire is kept as its raw number, so an unknown value round-trips
//! instead of failing the decode; whether it is *acceptable* is decided by the procedure that
//! reads it (for example an unknown Traffic Mode Type is answered with ERR "Unsupported Traffic
//! Mode Type" by the state machine, not rejected by the codec).

/// Declares `pub struct $name(pub $inner)` with named constants, `name()`, and a `Debug` /
/// `Display` that print the registered name or, for an unregistered value, the raw number.
macro_rules! open_code {
    (
        $(#[$meta:meta])*
        $name:ident($inner:ty) {
            $( $(#[$cmeta:meta])* $konst:ident = $val:literal => $label:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $inner);

        impl $name {
            $( $(#[$cmeta])* pub const $konst: $name = $name($val); )*

            /// Every registered code point, in numeric order.
            pub const ALL: &'static [$name] = &[$($name($val)),*];

            /// The registered name of this code point, `None` when unregistered.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $val => Some($label), )*
                    _ => None,
                }
            }

            /// Whether this value is one of the registered code points.
            pub const fn is_known(self) -> bool {
                self.name().is_some()
            }
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, concat!(stringify!($name), "({:#x})"), self.0),
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Debug::fmt(self, f)
            }
        }

        impl From<$inner> for $name {
            fn from(v: $inner) -> Self {
                $name(v)
            }
        }

        impl From<$name> for $inner {
            fn from(v: $name) -> Self {
                v.0
            }
        }
    };
}
