//! m3ua
#![forbid(unsafe_code)]
#![warn(missing_docs)]
