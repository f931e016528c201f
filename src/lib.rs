//! Strowger: a Service Control Point for VPN service with built-in prepaid charging.
pub mod cdr_sink;
pub mod config;
pub mod engine;
pub mod ledger;
pub mod metrics;
pub mod prepaid;
pub mod service;
pub mod trace;
