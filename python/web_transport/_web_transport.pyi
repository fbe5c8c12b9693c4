"""Type stubs and API reference for the native module ``web_transport._web_transport``.

Protocol references: QUIC is RFC 9000, HTTP/3 RFC 9114, QUIC datagrams RFC 9221,
WebTransport over HTTP/3 is draft-ietf-webtrans-http3, and the browser API is the W3C
WebTransport specification. Every asynchronous method returns an :class:`Operation`, a
coroutine over an ``asyncio.Future`` of the running event loop; it works with ``await``,
``asyncio.create_task``, ``gather``, ``wait_for`` and cancellation, and must be called
while an event loop is running (``RuntimeError`` otherwise). Sizes are in bytes and
durations in seconds.
"""

import collections.abc
import os
from collections.abc import Coroutine, Generator, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Final, Literal, Self, final

from web_transport._exceptions import (
    ConnectError as ConnectError,
)
from web_transport._exceptions import (
    DatagramError as DatagramError,
)
from web_transport._exceptions import (
    DatagramNotSupportedError as DatagramNotSupportedError,
)
from web_transport._exceptions import (
    DatagramTooLargeError as DatagramTooLargeError,
)
from web_transport._exceptions import (
    ProtocolError as ProtocolError,
)
from web_transport._exceptions import (
    SessionClosed as SessionClosed,
)
from web_transport._exceptions import (
    SessionClosedByPeer as SessionClosedByPeer,
)
from web_transport._exceptions import (
    SessionClosedLocally as SessionClosedLocally,
)
from web_transport._exceptions import (
    SessionError as SessionError,
)
from web_transport._exceptions import (
    SessionRejected as SessionRejected,
)
from web_transport._exceptions import (
    SessionTimeout as SessionTimeout,
)
from web_transport._exceptions import (
    StreamClosed as StreamClosed,
)
from web_transport._exceptions import (
    StreamClosedByPeer as StreamClosedByPeer,
)
from web_transport._exceptions import (
    StreamClosedLocally as StreamClosedLocally,
)
from web_transport._exceptions import (
    StreamError as StreamError,
)
from web_transport._exceptions import (
    StreamIncompleteReadError as StreamIncompleteReadError,
)
from web_transport._exceptions import (
    StreamTooLongError as StreamTooLongError,
)
from web_transport._exceptions import (
    WebTransportError as WebTransportError,
)

__version__: Final[str]

type CertificateSource = bytes | bytearray | memoryview | str | os.PathLike[str]
"""DER or PEM bytes, PEM text, or a path to a DER or PEM file."""

type Buffer = collections.abc.Buffer
"""Any object with the buffer protocol: bytes, bytearray, memoryview, array, numpy."""
type CongestionControl = Literal["default", "throughput", "low_latency"]

@final
class Operation[T](Coroutine[Any, Any, T]):
    """The awaitable every asynchronous method returns: a coroutine over an
    ``asyncio.Future`` of the running loop. The work starts when the method is called;
    ``await`` it, or pass it to ``asyncio.create_task``, ``gather`` or ``wait_for``.
    Cancelling it (or the task awaiting it) cancels the operation; a read cancelled after
    its data arrived keeps the data for the next read."""

    def __await__(self) -> Generator[Any, None, T]: ...
    def send(self, value: None) -> Any: ...
    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any: ...
    def close(self) -> None:
        """Cancel the operation if it has not completed."""
    def __next__(self) -> Any: ...
    def __iter__(self) -> Operation[T]: ...

def generate_self_signed(
    subject_alt_names: list[str], *, validity_days: int = 14
) -> tuple[bytes, bytes]:
    """Generate a self-signed ECDSA P-256 certificate (rcgen), for ``serverCertificateHashes``.

    The validity starts 5 minutes in the past (tolerating clock skew) and spans
    ``validity_days`` days in all: browsers refuse certificate hashes of certificates
    valid for more than 14 days (W3C WebTransport, "custom certificate requirements").

    Args:
        subject_alt_names: DNS names and/or IP addresses, e.g. ``["localhost", "127.0.0.1"]``
            (a list or tuple of ``str``).
        validity_days: Days of validity, 1 to 14 (default 14).

    Returns:
        ``(certificate_der, private_key_der)``: the certificate as DER and the key as
        PKCS#8 DER.

    Raises:
        TypeError: ``subject_alt_names`` is not a list or tuple of ``str``, or
            ``validity_days`` is not an ``int``.
        ValueError: ``subject_alt_names`` is empty or holds an invalid name, or
            ``validity_days`` is outside 1..14.
    """

def certificate_hash(certificate: CertificateSource | Sequence[CertificateSource]) -> bytes:
    """SHA-256 of a certificate's DER encoding: the 32 bytes ``serverCertificateHashes``
    (W3C WebTransport) and ``Client(server_certificate_hashes=...)`` expect.

    Args:
        certificate: The certificate as DER or PEM (bytes or text) or a path, or a list
            of those; for a chain the first (leaf) certificate is hashed.

    Raises:
        TypeError: ``certificate`` is not bytes-like, str or a path.
        ValueError: It holds no valid X.509 certificate.
        OSError: The file cannot be read.
    """

@final
class TransportConfig:
    """QUIC stream limits, flow-control windows and datagram buffers, shared by
    ``Server(transport=...)`` and ``Client(transport=...)`` (RFC 9000 §4, RFC 9221).

    All keyword-only; sizes in bytes, ``initial_rtt`` in seconds. Each argument is
    validated, and the error names it: ``TypeError`` for a wrong type (sizes and counts
    take an ``int``, ``initial_rtt`` an ``int`` or ``float``; a ``bool`` or an object that
    only converts to a number is refused), ``ValueError`` when out of range.

    Args:
        max_concurrent_bidi_streams: Bidirectional streams the peer may open at once
            (default 100).
        max_concurrent_uni_streams: Unidirectional streams the peer may open at once
            (default 100).
        stream_receive_window: Per-stream flow-control window (default 1,250,000).
        receive_window: Connection flow-control window (default 15,000,000).
        send_window: Bytes buffered for sending across streams (default 15,000,000).
        datagram_receive_buffer_size: Datagram receive buffer in quinn, ``None``
            disables receiving datagrams (default 1,048,576).
        datagram_send_buffer_size: Datagram send buffer (default 1,048,576).
        initial_rtt: RTT assumed before the first measurement (default 0.333).
    """

    max_concurrent_bidi_streams: Final[int]
    max_concurrent_uni_streams: Final[int]
    stream_receive_window: Final[int]
    receive_window: Final[int]
    send_window: Final[int]
    datagram_receive_buffer_size: Final[int | None]
    datagram_send_buffer_size: Final[int]
    initial_rtt: Final[float]

    def __new__(
        cls,
        *,
        max_concurrent_bidi_streams: int = 100,
        max_concurrent_uni_streams: int = 100,
        stream_receive_window: int = 1_250_000,
        receive_window: int = 15_000_000,
        send_window: int = 15_000_000,
        datagram_receive_buffer_size: int | None = 1_048_576,
        datagram_send_buffer_size: int = 1_048_576,
        initial_rtt: float = 0.333,
    ) -> Self: ...

@final
class Server:
    """A WebTransport server: one QUIC endpoint accepting sessions.

    Every handshake (QUIC, HTTP/3 SETTINGS, extended CONNECT) must finish within
    ``handshake_timeout``; at most ``max_pending_handshakes`` run at once (further
    connection attempts are refused) and handshaken requests queue (up to 1024) for
    :meth:`accept`.

    Args:
        certificate_chain: Leaf first: a list of DER/PEM certificates, one PEM chain
            (bytes, text or path), or one DER certificate.
        private_key: The leaf's key: PKCS#8, SEC1 (EC) or PKCS#1 (RSA), DER or PEM,
            bytes, text or path.
        bind: ``"host:port"`` to listen on (default ``"[::]:4433"``; port 0 picks one,
            see :attr:`local_addr`). An IPv6 address is dual-stack on every platform
            (``IPV6_V6ONLY`` off): ``[::]`` accepts IPv4 clients too.
        congestion_control: ``"default"`` (CUBIC), ``"throughput"`` (CUBIC) or
            ``"low_latency"`` (BBR).
        max_idle_timeout: Seconds without packets before a session times out (RFC 9000
            §10.1); ``None`` disables it (default 30).
        keep_alive_interval: Seconds between keep-alive PINGs, ``None`` for none.
        transport: Stream limits and windows (:class:`TransportConfig`).
        handshake_timeout: Seconds a connection may take to become a session request
            (default 10).
        max_pending_handshakes: Concurrent handshakes before new connections are
            refused (default 256).
        reuse_port: Bind with ``SO_REUSEPORT`` (default ``False``), so that several
            processes, each with its own ``Server(reuse_port=True)``, serve one UDP port
            (``web-transport serve --workers N``). Linux balances incoming connections
            over them by address 4-tuple (source and destination address and port); a
            client whose address changes mid-connection (QUIC connection migration,
            RFC 9000 §9) may then reach another process and lose its session. macOS and
            the BSDs accept the option without balancing (one process gets the
            datagrams).

    Raises:
        TypeError, ValueError: An argument has the wrong type or value, the certificate
            or key is malformed, the key does not match the certificate, or
            ``reuse_port=True`` on a platform without ``SO_REUSEPORT`` (Windows).
        OSError: ``bind`` cannot be bound (e.g. ``EADDRINUSE``) or the file cannot be read.
    """

    def __new__(
        cls,
        *,
        certificate_chain: CertificateSource | Sequence[CertificateSource],
        private_key: CertificateSource,
        bind: str = "[::]:4433",
        congestion_control: CongestionControl = "default",
        max_idle_timeout: float | None = 30.0,
        keep_alive_interval: float | None = None,
        transport: TransportConfig | None = None,
        handshake_timeout: float = 10.0,
        max_pending_handshakes: int = 256,
        reuse_port: bool = False,
    ) -> Self: ...
    def accept(self) -> Operation[SessionRequest | None]:
        """Wait for the next session request; ``None`` once the server is closed."""
    def __aiter__(self) -> Server: ...
    def __anext__(self) -> Operation[SessionRequest]:
        """The next session request; ``StopAsyncIteration`` once the server is closed."""
    def close(self, code: int = 0, reason: str = "", *, timeout: float = 1.0) -> None:
        """Close the server gracefully: stop accepting (new connections are refused and
        :meth:`accept` returns ``None``), close every accepted session with the
        WebTransport close capsule carrying ``code`` and ``reason`` (a browser's
        ``closed`` promise sees both), then close the endpoint (QUIC
        ``CONNECTION_CLOSE``) once every session is closed or after ``timeout`` seconds.
        Await :meth:`wait_closed` for completion. Calling it again does nothing.

        Args:
            code: Application error code, 0..2**32-1 (default 0).
            reason: UTF-8 text of at most 1024 bytes (default ``""``).
            timeout: Seconds to wait for sessions to close before closing the endpoint.

        Raises:
            TypeError: ``code`` is not an int.
            ValueError: ``code``, ``reason`` or ``timeout`` is out of range.
        """
    def wait_closed(self) -> Operation[None]:
        """Wait until every connection of the endpoint is closed. After :meth:`close`
        (or leaving ``async with``), waits at most the close ``timeout`` plus 3 seconds
        for connections to finish draining (RFC 9000 §10.2 lets an endpoint end draining
        early), so a connection that never reports its end cannot hold it forever."""
    def reload_certificates(
        self,
        certificate_chain: CertificateSource | Sequence[CertificateSource],
        private_key: CertificateSource,
    ) -> None:
        """Use a new certificate and key for new connections, without a restart.
        Established sessions are unaffected.

        Raises:
            TypeError, ValueError, OSError: As for the constructor.
        """
    @property
    def local_addr(self) -> tuple[str, int]:
        """``(host, port)`` the server is bound to."""
    def __aenter__(self) -> Operation[Server]: ...
    def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> Operation[None]:
        """``close()`` (code 0, timeout 1 s) and wait until the server is closed."""

@final
class SessionRequest:
    """A client's extended CONNECT request (draft-ietf-webtrans-http3 §3.2), waiting for
    :meth:`accept` or :meth:`reject`. Answer it exactly once."""

    @property
    def url(self) -> str:
        """The requested URL, ``https://host:port/path?query``."""
    @property
    def headers(self) -> dict[str, str]:
        """The request headers, lower-case names (e.g. ``origin``); repeated headers are
        joined with ``", "``."""
    @property
    def protocols(self) -> list[str]:
        """Subprotocols the client offered (``WT-Available-Protocols``, the W3C
        ``protocols`` option), in the client's order."""
    @property
    def remote_address(self) -> tuple[str, int]:
        """The client's ``(host, port)``."""
    def accept(self, *, protocol: str | None = None) -> Operation[Session]:
        """Answer 200 and open the session, choosing ``protocol`` (``WT-Protocol``).

        Raises:
            ValueError: ``protocol`` is not one of :attr:`protocols`.
            SessionClosedLocally: The request was already answered.
            SessionError: The client went away meanwhile.
        """
    def reject(self, status_code: int = 404) -> Operation[None]:
        """Answer with an HTTP status (100-599, not 2xx); the client sees
        :class:`SessionRejected` (a browser's ``ready`` promise rejects).

        Raises:
            ValueError: ``status_code`` is out of range or 2xx.
            SessionClosedLocally: The request was already answered.
        """

@final
class Client:
    """A WebTransport client: one QUIC endpoint that opens sessions.

    Server certificates are verified against the system roots by default. Choose at
    most one of ``server_certificate_hashes``, ``ca_certificates`` and
    ``no_cert_verification``.

    Args:
        server_certificate_hashes: SHA-256 digests (32 bytes each) of accepted
            certificates, with the browsers' rules (W3C ``serverCertificateHashes``):
            the certificate must also be currently valid for at most 14 days.
        no_cert_verification: Accept any certificate. DANGEROUS: for local testing
            only; logs a warning (logger ``web_transport``) once per process.
        ca_certificates: Trust only these CA certificates (DER/PEM, text, path or list).
        congestion_control: ``"default"``, ``"throughput"`` or ``"low_latency"``.
        max_idle_timeout: Seconds without packets before a session times out; also
            bounds the handshake (default 30; ``None``: no timeout).
        keep_alive_interval: Seconds between keep-alive PINGs, ``None`` for none.
        transport: Stream limits and windows (:class:`TransportConfig`).
        bind: Local ``"host:port"`` (default ``"[::]:0"``, falling back to ``"0.0.0.0:0"``).

    Raises:
        TypeError, ValueError: Invalid argument (named in the message).
        OSError: The local socket cannot be bound.
    """

    def __new__(
        cls,
        *,
        server_certificate_hashes: list[bytes] | None = None,
        no_cert_verification: bool = False,
        ca_certificates: CertificateSource | Sequence[CertificateSource] | None = None,
        congestion_control: CongestionControl = "default",
        max_idle_timeout: float | None = 30.0,
        keep_alive_interval: float | None = None,
        transport: TransportConfig | None = None,
        bind: str | None = None,
    ) -> Self: ...
    def connect(
        self,
        url: str,
        *,
        protocols: list[str] | None = None,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    ) -> Operation[Session]:
        """Open a session to ``url`` (``https://host:port/path``).

        Args:
            url: The server URL; must be ``https://``.
            protocols: Subprotocols to offer (``WT-Available-Protocols``), a list or tuple
                of ``str``.
            headers: Extra request headers (e.g. ``{"origin": "https://example.com"}``).

        Raises:
            ValueError: Malformed URL, non-https scheme, invalid subprotocol or header.
            TypeError: ``protocols`` is not a list or tuple of ``str``, or ``headers`` is
                not a mapping or a list of pairs.
            SessionRejected: The server answered with a non-2xx status.
            ConnectError: Unreachable (no answer over UDP within ``max_idle_timeout``),
                certificate refused (the message says why and what to do: on a hash
                mismatch it shows the presented and the pinned hashes), or the server
                does not speak WebTransport.
        """
    def close(self, code: int = 0, reason: str = "") -> None:
        """Close all of this client's sessions at once (QUIC ``CONNECTION_CLOSE``).

        Raises:
            TypeError, ValueError: ``code`` is not an int in 0..2**32-1.
        """
    def wait_closed(self) -> Operation[None]:
        """Wait until all of this client's connections are closed. After :meth:`close`
        (or leaving ``async with``), waits at most 3 seconds for connections to finish
        draining (RFC 9000 §10.2)."""
    def __aenter__(self) -> Operation[Client]: ...
    def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> Operation[None]:
        """Close the client and wait until it is closed."""

@final
class Session:
    """A WebTransport session (draft-ietf-webtrans-http3) on its own QUIC connection.

    When the session closes, every pending operation on it raises the close reason:
    :class:`SessionClosedLocally`, :class:`SessionClosedByPeer` or
    :class:`SessionTimeout`.
    """

    def open_bi(self) -> Operation[tuple[SendStream, RecvStream]]:
        """Open a bidirectional stream (waits while the peer's stream limit is reached).

        Raises:
            SessionError: The session is closed.
        """
    def open_uni(self) -> Operation[SendStream]:
        """Open a unidirectional stream.

        Raises:
            SessionError: The session is closed.
        """
    def accept_bi(self) -> Operation[tuple[SendStream, RecvStream]]:
        """Wait for the peer's next bidirectional stream. Several tasks may wait at once;
        each stream goes to one of them.

        Raises:
            SessionError: The session is closed.
        """
    def accept_uni(self) -> Operation[RecvStream]:
        """Wait for the peer's next unidirectional stream.

        Raises:
            SessionError: The session is closed.
        """
    def send_datagram(self, data: Buffer) -> None:
        """Queue a datagram (RFC 9221; unreliable, unordered). If the send buffer
        (``TransportConfig.datagram_send_buffer_size``) has no room, this datagram is
        dropped and counted in :attr:`SessionStats.datagrams_dropped_outgoing`; use
        :meth:`send_datagram_wait` to wait for room instead.

        Raises:
            TypeError: ``data`` is not bytes-like.
            DatagramTooLargeError: ``len(data)`` exceeds :attr:`max_datagram_size`.
            DatagramNotSupportedError: The peer does not accept datagrams.
            SessionError: The session is closed.
        """
    def send_datagram_wait(self, data: Buffer) -> Operation[None]:
        """Send a datagram, waiting for room in the send buffer instead of dropping.

        Raises:
            As :meth:`send_datagram`.
        """
    def send_datagrams_wait(self, datagrams: Iterable[Buffer]) -> Operation[None]:
        """Send several datagrams, in order, each waiting for room in the send buffer as
        :meth:`send_datagram_wait` does: one await per burst instead of per datagram.
        Every datagram is checked before any is sent, so bad input sends nothing. If the
        operation is cancelled, the datagrams already queued are sent and the rest are
        not.

        Args:
            datagrams: An iterable of bytes-like objects (not a single one), each at most
                :attr:`max_datagram_size` bytes.

        Raises:
            TypeError: ``datagrams`` is not iterable, is itself bytes-like, or holds an
                item that is not bytes-like.
            DatagramTooLargeError: A datagram exceeds :attr:`max_datagram_size`.
            DatagramNotSupportedError: The peer does not accept datagrams.
            SessionError: The session is closed.
        """
    def receive_datagram(self) -> Operation[bytes]:
        """Wait for the next datagram. Received datagrams queue (up to 4 MiB); when the
        queue is full the oldest is dropped and counted in
        :attr:`SessionStats.datagrams_dropped_incoming`. Queued datagrams are still
        returned after the session closes; then the close reason is raised.

        Raises:
            SessionError: The session is closed and no datagram is queued.
        """
    def receive_datagrams(self, max_count: int = 64) -> Operation[list[bytes]]:
        """Wait for at least one datagram, then return every queued datagram, oldest
        first, up to ``max_count``: one await per burst instead of per datagram.

        Raises:
            TypeError, ValueError: ``max_count`` is not an int >= 1.
            SessionError: The session is closed and no datagram is queued.
        """
    def datagrams(self) -> Datagrams:
        """An async iterator over received datagrams, ending when the session closes."""
    def close(self, code: int = 0, reason: str = "") -> None:
        """Close the session gracefully. First, streams already finished (FIN) deliver
        their data: the close waits until the peer acknowledged it (at most 2 seconds).
        Then the ``CLOSE_WEBTRANSPORT_SESSION`` capsule carries ``code`` and ``reason``
        (draft-ietf-webtrans-http3 §5; a browser's ``closed`` promise sees both), and the
        connection closes once the peer answers or after 3 RTTs (at least 100 ms).
        Unfinished streams are reset, as the draft requires. From the call on, new
        operations raise :class:`SessionClosedLocally`; await :meth:`wait_closed` for
        completion. Calling it again does nothing.

        Args:
            code: Application error code, 0..2**32-1 (default 0).
            reason: UTF-8 text of at most 1024 bytes (default ``""``).

        Raises:
            TypeError: ``code`` is not an int.
            ValueError: ``code`` is out of range or ``reason`` is longer than 1024 bytes.
            UnicodeEncodeError: ``reason`` is not encodable as UTF-8.
        """
    def wait_closed(self) -> Operation[None]:
        """Wait until the session is closed by either side. Never raises; see
        :attr:`close_reason`."""
    @property
    def close_reason(self) -> SessionError | None:
        """Why the session closed (an exception instance, not raised), or ``None``."""
    @property
    def max_datagram_size(self) -> int:
        """The largest datagram payload :meth:`send_datagram` accepts now (bytes; 0 when
        the peer does not accept datagrams, or when this side's ``TransportConfig`` has
        ``datagram_receive_buffer_size=None``, which disables them locally)."""
    @property
    def remote_address(self) -> tuple[str, int]:
        """The peer's ``(host, port)``."""
    @property
    def rtt(self) -> float:
        """Smoothed round-trip time, seconds."""
    @property
    def protocol(self) -> str | None:
        """The negotiated subprotocol (``WT-Protocol``), or ``None``."""
    @property
    def url(self) -> str | None:
        """The URL of the session's CONNECT request."""
    def stats(self) -> SessionStats:
        """A snapshot of the connection and datagram statistics."""
    def __aenter__(self) -> Operation[Session]: ...
    def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> Operation[None]:
        """Close the session (code 0) and wait until it is closed."""

@final
class Datagrams:
    """``async for datagram in session.datagrams()``: each received datagram as bytes;
    iteration ends when the session closes."""

    def __aiter__(self) -> Datagrams: ...
    def __anext__(self) -> Operation[bytes]: ...

@final
class SessionStats:
    """A snapshot of a session's statistics, named after the W3C
    ``WebTransportConnectionStats`` / ``WebTransportDatagramStats`` (in snake_case)
    where those define the quantity."""

    bytes_sent: Final[int]
    """UDP payload bytes sent (W3C ``bytesSent``)."""
    bytes_received: Final[int]
    """UDP payload bytes received (W3C ``bytesReceived``)."""
    bytes_lost: Final[int]
    """Bytes declared lost (W3C ``bytesLost``)."""
    packets_sent: Final[int]
    """UDP datagrams sent (W3C ``packetsSent``)."""
    packets_received: Final[int]
    """UDP datagrams received (W3C ``packetsReceived``)."""
    packets_lost: Final[int]
    """QUIC packets declared lost (W3C ``packetsLost``)."""
    smoothed_rtt: Final[float]
    """Smoothed RTT, seconds (W3C ``smoothedRtt``)."""
    congestion_window: Final[int]
    """Congestion window, bytes."""
    current_mtu: Final[int]
    """Path MTU in use, bytes."""
    datagrams_received: Final[int]
    """Datagrams received (every DATAGRAM frame): those delivered, plus
    ``datagrams_queued``, plus ``datagrams_dropped_incoming``."""
    datagrams_dropped_incoming: Final[int]
    """Received datagrams dropped because the receive queue was full (W3C
    ``droppedIncoming``)."""
    datagrams_dropped_outgoing: Final[int]
    """Datagrams :meth:`Session.send_datagram` dropped because the send buffer was full."""
    datagrams_queued: Final[int]
    """Datagrams waiting in the receive queue."""

@final
class SendStream:
    """The sending half of a stream (RFC 9000 §3.1). Calls from several tasks queue."""

    def write(self, data: Buffer) -> Operation[None]:
        """Write all of ``data`` (waits for flow-control credit). ``bytes`` is shared
        with the network stack without a copy; mutable buffers are copied once.

        Raises:
            TypeError: ``data`` is not bytes-like.
            StreamClosedByPeer: The peer sent ``STOP_SENDING`` (``kind="stop"``).
            StreamClosedLocally: The stream was finished or reset, or :meth:`reset`
                was called while the write was pending.
            SessionError: The session is closed.
        """
    def write_some(self, data: Buffer) -> Operation[int]:
        """Write as much of ``data`` as flow control allows (at least one byte unless
        ``data`` is empty); return the number of bytes written.

        Raises:
            As :meth:`write`.
        """
    def finish(self) -> Operation[None]:
        """End the stream cleanly (QUIC FIN) after any pending write.

        Raises:
            StreamClosedLocally: The stream was already finished or reset.
        """
    def reset(self, error_code: int = 0) -> None:
        """Abandon the stream with ``RESET_STREAM`` carrying ``error_code`` (RFC 9000
        §19.4); unsent data is discarded and a pending write or finish raises
        :class:`StreamClosedLocally`. The peer's reader sees
        :class:`StreamClosedByPeer` (``kind="reset"``), a browser
        ``WebTransportError.streamErrorCode``.

        Raises:
            TypeError: ``error_code`` is not an int.
            ValueError: ``error_code`` is outside 0..2**32-1.
            StreamClosedLocally: The stream was already finished or reset.
        """
    def wait_closed(self) -> Operation[int | None]:
        """Wait until the stream is done: ``None`` once the peer acknowledged all data
        after :meth:`finish`, or the code of the peer's ``STOP_SENDING``. Waits for
        pending writes first.

        Raises:
            SessionError: The session closed first.
        """
    @property
    def priority(self) -> int:
        """Send priority among this session's streams (higher first; default 0).

        Raises (on assignment):
            TypeError: The value is not an ``int`` (or is a ``bool``).
            ValueError: The value is outside the 32-bit signed range.
        """
    @priority.setter
    def priority(self, value: int) -> None: ...
    def __aenter__(self) -> Operation[SendStream]: ...
    def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> Operation[None]:
        """Finish on a clean exit; reset with code 0 if an exception escapes."""

@final
class RecvStream:
    """The receiving half of a stream (RFC 9000 §3.2).

    Data already taken from the network but not returned (a cancelled read, an
    interrupted :meth:`readexactly`, a :meth:`read` over its ``limit``) is kept and
    returned by the next read: cancellation loses nothing.
    """

    def read(self, n: int = -1, *, limit: int | None = None) -> Operation[bytes]:
        """Read up to ``n`` bytes, or until the end of the stream when ``n == -1``.
        Returns ``b""`` at the end of the stream (and on every later call).

        Args:
            n: Maximum bytes to return; ``-1`` (default) reads to the end.
            limit: With ``n == -1``, the most bytes to accept; ``None`` for no limit.

        Raises:
            ValueError: ``n < -1`` or ``limit < 0``.
            StreamTooLongError: More than ``limit`` bytes arrived; they stay readable.
            StreamClosedByPeer: The peer sent ``RESET_STREAM`` (``kind="reset"``).
            StreamClosedLocally: The stream was stopped (also while the read waited).
            SessionError: The session is closed.
        """
    def readexactly(self, n: int) -> Operation[bytes]:
        """Read exactly ``n`` bytes.

        Raises:
            ValueError: ``n < 0``.
            StreamIncompleteReadError: The stream ended first (``.partial`` holds what
                arrived).
            StreamClosedByPeer, StreamClosedLocally, SessionError: As :meth:`read`.
        """
    def readinto(self, buffer: bytearray | memoryview) -> Operation[int]:
        """Read up to ``len(buffer)`` bytes into a writable, C-contiguous buffer; return
        the number of bytes written (0 at the end of the stream).

        Raises:
            TypeError: ``buffer`` is read-only or not bytes-like.
            ValueError: ``buffer`` is not C-contiguous, or shrank while waiting.
            StreamClosedByPeer, StreamClosedLocally, SessionError: As :meth:`read`.
        """
    def stop(self, error_code: int = 0) -> None:
        """Ask the peer to stop sending with ``STOP_SENDING`` carrying ``error_code``
        (RFC 9000 §19.5); a pending read raises :class:`StreamClosedLocally`. The peer's
        writer sees :class:`StreamClosedByPeer` (``kind="stop"``).

        Raises:
            TypeError: ``error_code`` is not an int.
            ValueError: ``error_code`` is outside 0..2**32-1.
            StreamClosedLocally: The stream was already stopped.
        """
    def wait_closed(self) -> Operation[int | None]:
        """Wait until the stream is done: ``None`` after the peer's FIN with all data
        received, or after :meth:`stop`; the peer's ``RESET_STREAM`` code otherwise.
        Waits for pending reads first.

        Raises:
            SessionError: The session closed first.
        """
    def __aiter__(self) -> RecvStream: ...
    def __anext__(self) -> Operation[bytes]:
        """The next chunk as it arrived; ``StopAsyncIteration`` at the end of the stream."""
    def __aenter__(self) -> Operation[RecvStream]: ...
    def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> Operation[None]:
        """Stop the stream (code 0) unless it was read to the end."""
