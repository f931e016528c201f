//! Strowger: a Service Control Point for VPN service with built-in prepaid charging.
pub mod admin;
pub mod callgen;
pub mod cdr_sink;
pub mod config;
pub mod demo;
pub mod engine;
pub mod ledger;
pub mod metrics;
pub mod prepaid;
pub mod scratch;
pub mod server;
pub mod service;
pub mod trace;
