//! Reads that also tell when the kernel received the bytes (`SO_TIMESTAMPNS`), so the
//! generator can time an answer from its arrival instead of from the moment its own thread got
//! round to reading it. With the generator on the same cores as the SCP, that moment trails the
//! arrival by however long the generator waited for a core; on a dedicated generator machine
//! the two agree.
//!
//! For TCP the kernel reports the receive time of the last segment a read returned, so when one
//! read returns several answers, the earlier ones are timed late, never early.

use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Ask the kernel to time received data on `stream`; `false` if it refuses (reads then carry
/// no receive time).
pub fn enable(stream: &TcpStream) -> bool {
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads one c_int from a pointer to a live one, of the size given.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        ) == 0
    }
}

/// Read what is available into `buf`'s spare capacity (at least one byte of it is needed):
/// the byte count (0 at end of stream) and, when the kernel timed it, when the data arrived,
/// on the monotonic clock.
pub async fn read_buf(
    stream: &TcpStream,
    buf: &mut BytesMut,
) -> io::Result<(usize, Option<Instant>)> {
    loop {
        stream.readable().await?;
        match stream.try_io(Interest::READABLE, || recv(stream.as_raw_fd(), buf)) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            r => return r,
        }
    }
}

fn recv(fd: i32, buf: &mut BytesMut) -> io::Result<(usize, Option<Instant>)> {
    let spare = buf.spare_capacity_mut();
    let mut iov = libc::iovec {
        iov_base: spare.as_mut_ptr().cast(),
        iov_len: spare.len(),
    };
    // Room for one SCM_TIMESTAMPNS message (and an aligned start).
    let mut control = [0u64; 8];
    // SAFETY: a zeroed msghdr is valid; its pointers are set below to live buffers.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of_val(&control) as _;
    // SAFETY: recvmsg writes at most iov_len bytes to the spare capacity and at most
    // msg_controllen bytes of control messages, both buffers alive for the call.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    // SAFETY: the kernel initialised the first n bytes of the spare capacity.
    unsafe { buf.set_len(buf.len() + n) };
    let mut at = None;
    // SAFETY: the CMSG_* walk stays within msg_controllen bytes of `control`, as set by the
    // kernel; the timespec is read unaligned from a message of its type.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                at = arrival(ts);
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok((n, at))
}

/// The wall-clock receive time `ts` on the monotonic clock: now, less how long ago it was.
fn arrival(ts: libc::timespec) -> Option<Instant> {
    let (mono, wall) = (Instant::now(), SystemTime::now());
    let stamp = UNIX_EPOCH
        + Duration::new(
            u64::try_from(ts.tv_sec).ok()?,
            u32::try_from(ts.tv_nsec).ok()?,
        );
    let ago = wall.duration_since(stamp).unwrap_or(Duration::ZERO);
    mono.checked_sub(ago)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// Bytes written on one end arrive whole on the other, with a receive time between the
    /// write and the read.
    #[tokio::test]
    async fn a_read_carries_the_kernels_receive_time() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        assert!(enable(&client));
        // The kernel turns receive timestamps on from a work queue, a moment after the first
        // socket asks: data arriving before that carries none. Wait until it does (CI failed
        // once on a first read without it).
        let mut buf = BytesMut::with_capacity(64);
        let mut timed = false;
        for _ in 0..200 {
            server.write_all(b"w").await.unwrap();
            buf.clear();
            let (n, at) = read_buf(&client, &mut buf).await.unwrap();
            assert_eq!(n, 1);
            if at.is_some() {
                timed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(timed, "the kernel never timed the data");
        buf.clear();
        let before = Instant::now();
        server.write_all(b"answer").await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (n, at) = read_buf(&client, &mut buf).await.unwrap();
        let after = Instant::now();
        assert_eq!((n, &buf[..]), (6, &b"answer"[..]));
        let at = at.expect("the kernel timed the data");
        // Allow the clocks' conversion a little slack.
        assert!(at + Duration::from_millis(1) >= before, "{at:?} {before:?}");
        assert!(
            at + Duration::from_millis(15) <= after,
            "the receive time, not the read's: {:?} before the read",
            after - at
        );
        // End of stream: 0 bytes.
        drop(server);
        let (n, _) = read_buf(&client, &mut buf).await.unwrap();
        assert_eq!(n, 0);
    }
}
