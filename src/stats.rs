//! `SessionStats`: a snapshot of a session's connection and datagram statistics, named
//! after the W3C WebTransport API's `WebTransportConnectionStats` and
//! `WebTransportDatagramStats` where those define the quantity (in snake_case).

use pyo3::prelude::*;
use web_transport_quinn as wtq;

use crate::datagram::DatagramQueue;

#[pyclass(frozen, module = "web_transport", get_all)]
pub struct SessionStats {
    /// UDP payload bytes sent (W3C `bytesSent`).
    pub bytes_sent: u64,
    /// UDP payload bytes received (W3C `bytesReceived`).
    pub bytes_received: u64,
    /// Bytes declared lost (W3C `bytesLost`).
    pub bytes_lost: u64,
    /// UDP datagrams sent (W3C `packetsSent`).
    pub packets_sent: u64,
    /// UDP datagrams received (W3C `packetsReceived`).
    pub packets_received: u64,
    /// QUIC packets declared lost (W3C `packetsLost`).
    pub packets_lost: u64,
    /// Smoothed round-trip time, seconds (W3C `smoothedRtt`).
    pub smoothed_rtt: f64,
    /// Congestion window, bytes.
    pub congestion_window: u64,
    /// Path MTU in use, bytes.
    pub current_mtu: u16,
    /// Datagrams received from the peer (every DATAGRAM frame, RFC 9221); equals those
    /// delivered plus `datagrams_queued` plus `datagrams_dropped_incoming`.
    pub datagrams_received: u64,
    /// Received datagrams dropped because a receive buffer was full, quinn's or the
    /// session queue's (oldest first; W3C `droppedIncoming`).
    pub datagrams_dropped_incoming: u64,
    /// Datagrams dropped from the send buffer by `send_datagram` when it was full.
    pub datagrams_dropped_outgoing: u64,
    /// Datagrams waiting in the receive queue.
    pub datagrams_queued: usize,
}

impl SessionStats {
    pub fn collect(session: &wtq::Session, queue: &DatagramQueue, dropped_outgoing: u64) -> Self {
        let s = session.stats_quinn();
        Self {
            bytes_sent: s.udp_tx.bytes,
            bytes_received: s.udp_rx.bytes,
            bytes_lost: s.path.lost_bytes,
            packets_sent: s.udp_tx.datagrams,
            packets_received: s.udp_rx.datagrams,
            packets_lost: s.path.lost_packets,
            smoothed_rtt: s.path.rtt.as_secs_f64(),
            congestion_window: s.path.cwnd,
            current_mtu: s.path.current_mtu,
            // Every DATAGRAM frame that arrived, including those quinn dropped from its
            // own buffer, so received = delivered + queued + dropped_incoming.
            datagrams_received: s
                .frame_rx
                .datagram
                .max(queue.received.load(std::sync::atomic::Ordering::Relaxed)),
            // Dropped by our queue, plus any quinn dropped from its own receive buffer
            // before the queue took them (frames received but never queued).
            datagrams_dropped_incoming: queue.dropped.load(std::sync::atomic::Ordering::Relaxed)
                + s.frame_rx
                    .datagram
                    .saturating_sub(queue.received.load(std::sync::atomic::Ordering::Relaxed)),
            datagrams_dropped_outgoing: dropped_outgoing,
            datagrams_queued: queue.queued(),
        }
    }
}

trait QuinnStats {
    fn stats_quinn(&self) -> wtq::quinn::ConnectionStats;
}

impl QuinnStats for wtq::Session {
    fn stats_quinn(&self) -> wtq::quinn::ConnectionStats {
        // `Session` derefs to the quinn connection.
        wtq::quinn::Connection::stats(self)
    }
}

#[gate::pymethods]
impl SessionStats {
    fn __repr__(&self) -> String {
        format!(
            "SessionStats(bytes_sent={}, bytes_received={}, packets_lost={}, smoothed_rtt={:.6}, \
             congestion_window={}, datagrams_dropped_incoming={}, datagrams_dropped_outgoing={})",
            self.bytes_sent,
            self.bytes_received,
            self.packets_lost,
            self.smoothed_rtt,
            self.congestion_window,
            self.datagrams_dropped_incoming,
            self.datagrams_dropped_outgoing
        )
    }
}
