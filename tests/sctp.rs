//! Kernel SCTP transport (one-to-one sockets) behind the same link code as TCP. Most CI and
//! development machines have no SCTP in the kernel: there this test says SKIP and does not
//! count as a pass of SCTP support (the README says SCTP is untested there).

mod support;

use std::time::Duration;

use strowger::config::Transport;
use support::server::TestServer;

#[test]
fn sctp_listener_serves_m3ua_where_the_kernel_has_sctp() {
    if !strowger::engine::transport::sctp_available() {
        eprintln!("SKIP: this kernel has no SCTP; the SCTP transport was not tested");
        return;
    }
    let srv = TestServer::start_with(|c| c.m3ua.transport = Transport::Sctp);
    let addr = srv.m3ua();
    let sock = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::STREAM,
        Some(socket2::Protocol::from(libc::IPPROTO_SCTP)),
    )
    .unwrap();
    sock.connect(&addr.into()).unwrap();
    let mut s: std::net::TcpStream = sock.into();
    use std::io::{Read, Write};
    // BEAT with 4 bytes of heartbeat data; the SG answers BEAT Ack echoing it.
    s.write_all(&[1, 0, 3, 3, 0, 0, 0, 16, 0, 9, 0, 8, 1, 2, 3, 4])
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut b = [0u8; 16];
    s.read_exact(&mut b).unwrap();
    assert_eq!(&b[..4], &[1, 0, 3, 6], "BEAT Ack");
    assert_eq!(&b[12..16], &[1, 2, 3, 4]);
}
