//! Signalling traces: every M3UA message in and out, as a pcap file Wireshark reads.

pub mod pcap;

pub use pcap::{PcapWriter, SctpFlow};
