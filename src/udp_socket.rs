//! The server's UDP socket, made here (socket2) and handed to quinn
//! (`quinn::Endpoint::new`) instead of quinn's `Endpoint::server`, which binds with
//! `std::net::UdpSocket::bind` and so can do neither of:
//!
//! - **Dual stack.** An IPv6 bind (the default `[::]:4433`) turns `IPV6_V6ONLY` off, as
//!   quinn's own `Endpoint::client` does, so IPv4 clients reach it as IPv4-mapped
//!   addresses. Linux and macOS default to dual stack already; Windows defaults to
//!   v6-only, where a `[::]` server used to refuse `https://127.0.0.1:...`.
//! - **`reuse_port`.** `SO_REUSEPORT` lets several processes bind one UDP port. Linux
//!   spreads incoming datagrams over them by a hash of the address 4-tuple, so every
//!   packet of a connection reaches the same process as long as the client's address
//!   does not change; a client that migrates (RFC 9000 §9: a new address, e.g. after a
//!   NAT rebinding or a network switch) can land on another process, which does not know
//!   the connection and drops its packets until it times out. Routing by QUIC
//!   connection ID would be needed for that. macOS and the BSDs accept the option but
//!   deliver a unicast datagram to one of the sockets without balancing. Windows has
//!   no `SO_REUSEPORT`: `reuse_port=True` raises `ValueError` there.

use std::net::SocketAddr;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use socket2::{Domain, Protocol, Socket, Type};

/// A UDP socket bound to `addr` (`bind` is the argument as the caller wrote it, for
/// messages): dual-stack for IPv6 addresses, `SO_REUSEPORT` with `reuse_port`.
/// `ValueError` if `reuse_port` is unsupported here; `OSError` (with its errno) if the
/// socket cannot be made or bound.
pub fn bind(bind: &str, addr: SocketAddr, reuse_port: bool) -> PyResult<std::net::UdpSocket> {
    if reuse_port && !cfg!(unix) {
        return Err(PyValueError::new_err(
            "reuse_port=True needs SO_REUSEPORT, which this platform does not have \
             (Linux, macOS and the BSDs do)",
        ));
    }
    let context = format!("cannot bind {bind}");
    let os_error = |e: std::io::Error| crate::errors::os_error(&context, &e);
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
        .map_err(os_error)?;
    if addr.is_ipv6() {
        if let Err(e) = socket.set_only_v6(false) {
            tracing::debug!(%e, "cannot make the server socket dual-stack");
        }
    }
    #[cfg(unix)]
    if reuse_port {
        socket.set_reuse_port(true).map_err(os_error)?;
    }
    socket.bind(&addr.into()).map_err(os_error)?;
    Ok(socket.into())
}
