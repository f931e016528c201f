//! Strowger: a Service Control Point for VPN service with built-in prepaid charging.
pub mod config;
pub mod prepaid;
pub mod trace;
pub mod metrics;
pub mod cdr_sink;
