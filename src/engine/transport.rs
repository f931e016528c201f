//! Listening sockets for SSP links: TCP (tested), and kernel SCTP one-to-one style sockets
//! where the kernel has SCTP (not exercised by the test suite where no SCTP exists; messages
//! are written without the M3UA payload protocol identifier, which most peers accept).

use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;

use crate::config::Transport;

/// Bind a listening socket of the configured transport.
pub fn bind(addr: SocketAddr, transport: Transport) -> std::io::Result<TcpListener> {
    let protocol = match transport {
        Transport::Tcp => Protocol::TCP,
        Transport::Sctp => Protocol::from(libc::IPPROTO_SCTP),
    };
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(protocol))?;
    socket.set_reuse_address(true)?;
    if transport == Transport::Tcp {
        socket.set_nodelay(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    let std_listener: std::net::TcpListener = socket.into();
    TcpListener::from_std(std_listener)
}

/// Whether this kernel offers SCTP sockets.
pub fn sctp_available() -> bool {
    Socket::new(
        Domain::IPV4,
        Type::STREAM,
        Some(Protocol::from(libc::IPPROTO_SCTP)),
    )
    .is_ok()
}
