"""The bad-input table: every public function, constructor and method with invalid
arguments and in invalid states, and the documented exception each raises (one
:class:`Row` per row of ``docs/errors.md``).

This is data only, like ``interop_scenarios.py``: ``render_errors.py`` renders
``docs/errors.md`` from ``ROWS`` (run ``uv run python -m docs.generate``), and
``tests/reliability/test_bad_input.py`` runs every row with its runner from ``RUNS`` in
``tests/support/bad_input.py``, keyed by :attr:`Row.id`. To add a row, add it here and its
runner there; ``test_every_row_has_a_runner`` names a row without a runner, or a runner
without a row.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import web_transport as wt

U32 = 2**32


@dataclass(frozen=True)
class Row:
    """One row of docs/errors.md: calling ``api`` with ``given`` raises ``raises`` (with
    ``attrs``, and a message or note containing ``names``, the argument name, when given),
    or, when ``raises`` is None, returns ``returns``. ``bug`` marks a known binding bug:
    the row states the documented behaviour and its test is a strict xfail.
    """

    api: str
    given: str
    raises: type[BaseException] | None
    names: str = ""
    attrs: Mapping[str, Any] = field(default_factory=dict)
    returns: Any = None
    bug: str = ""

    @property
    def id(self) -> str:
        """``"api: given"``, unique in the table: the test id, and the key of the row's
        runner."""
        return f"{self.api}: {self.given}"


#: The standard out-of-range and wrong-type values of a code argument: (the value as a
#: row shows it, the value passed, the exception).
BAD_CODES: list[tuple[str, object, type[BaseException]]] = [
    ("-1", -1, ValueError),
    ("2**32 (over the 32-bit WebTransport limit)", U32, ValueError),
    ("2**62 (QUIC varint limit)", 2**62, ValueError),
    ("2**64", 2**64, ValueError),
    ("'1' (str)", "1", TypeError),
    ("1.0 (float)", 1.0, TypeError),
    ("True (bool)", True, TypeError),
    ("b'\\x01' (bytes)", b"\x01", TypeError),
]

#: The invalid close reasons: (the row's input, the reason passed, the exception, the
#: argument the message names).
BAD_REASONS: list[tuple[str, str, type[BaseException], str]] = [
    ("reason='\\ud800' (lone surrogate, not UTF-8)", "\ud800", UnicodeEncodeError, ""),
    ("reason of 1,025 bytes", "x" * 1025, ValueError, "reason"),
    ("reason of 513 'é' (1,026 UTF-8 bytes)", "é" * 513, ValueError, "reason"),
]


def bad_codes(api: str, arg: str, how: str = "") -> list[Row]:
    """A row for each of :data:`BAD_CODES` passed as the code argument ``arg`` (``how``
    says how it is passed when that is not positionally)."""
    return [Row(api, f"{arg}={shown}{how}", raises, names=arg) for shown, _, raises in BAD_CODES]


def bad_reasons(api: str) -> list[Row]:
    """A row for each of :data:`BAD_REASONS`."""
    return [Row(api, given, raises, names=names) for given, _, raises, names in BAD_REASONS]


ROWS: list[Row] = [
    # -- generate_self_signed ------------------------------------------------------------
    Row("generate_self_signed", "subject_alt_names=[]", ValueError, names="subject_alt_names"),
    Row(
        "generate_self_signed",
        "subject_alt_names='localhost' (str, not a list)",
        TypeError,
        names="subject_alt_names",
    ),
    Row("generate_self_signed", "subject_alt_names=[1]", TypeError, names="subject_alt_names"),
    Row(
        "generate_self_signed",
        "subject_alt_names=['\\ud800']",
        UnicodeEncodeError,
        names="subject_alt_names",
    ),
    Row(
        "generate_self_signed",
        "subject_alt_names=[''] (empty name)",
        ValueError,
        names="subject_alt_names",
    ),
    Row("generate_self_signed", "validity_days=0", ValueError, names="validity_days"),
    Row(
        "generate_self_signed",
        "validity_days=15 (browsers refuse > 14)",
        ValueError,
        names="validity_days",
    ),
    Row("generate_self_signed", "validity_days=-1", ValueError, names="validity_days"),
    Row("generate_self_signed", "validity_days=2**64", ValueError, names="validity_days"),
    Row("generate_self_signed", "validity_days=1.5", TypeError, names="validity_days"),
    # -- certificate_hash ------------------------------------------------------------------
    Row("certificate_hash", "b'' (empty)", ValueError, names="certificate"),
    Row("certificate_hash", "DER garbage", ValueError, names="certificate"),
    Row("certificate_hash", "PEM armour around garbage", ValueError, names="certificate"),
    Row(
        "certificate_hash",
        "a private key (DER) instead of a certificate",
        ValueError,
        names="certificate",
    ),
    Row(
        "certificate_hash",
        "a private key (PEM) instead of a certificate",
        ValueError,
        names="certificate",
    ),
    Row("certificate_hash", "16 MiB of garbage", ValueError, names="certificate"),
    Row("certificate_hash", "[] (empty list)", ValueError, names="certificate"),
    Row("certificate_hash", "None", TypeError, names="certificate"),
    Row("certificate_hash", "42", TypeError, names="certificate"),
    Row("certificate_hash", "a path that does not exist", OSError, names="certificate"),
    Row("certificate_hash", "a directory path", OSError, names="certificate"),
    Row("certificate_hash", "'\\ud800' (str that is not UTF-8)", UnicodeEncodeError),
    # -- TransportConfig -------------------------------------------------------------------
    Row(
        "TransportConfig",
        "max_concurrent_bidi_streams=-1",
        ValueError,
        names="max_concurrent_bidi_streams",
    ),
    Row(
        "TransportConfig",
        "max_concurrent_uni_streams=2**32",
        ValueError,
        names="max_concurrent_uni_streams",
    ),
    Row(
        "TransportConfig",
        "max_concurrent_bidi_streams=2**63",
        ValueError,
        names="max_concurrent_bidi_streams",
    ),
    Row(
        "TransportConfig",
        "max_concurrent_bidi_streams='1'",
        TypeError,
        names="max_concurrent_bidi_streams",
    ),
    Row(
        "TransportConfig",
        "stream_receive_window=1023 (below 1 KiB)",
        ValueError,
        names="stream_receive_window",
    ),
    Row(
        "TransportConfig", "stream_receive_window=2**32", ValueError, names="stream_receive_window"
    ),
    Row("TransportConfig", "receive_window=2**62", ValueError, names="receive_window"),
    Row("TransportConfig", "send_window=0", ValueError, names="send_window"),
    Row(
        "TransportConfig",
        "datagram_receive_buffer_size=-1",
        ValueError,
        names="datagram_receive_buffer_size",
    ),
    Row(
        "TransportConfig",
        "datagram_send_buffer_size=2**62",
        ValueError,
        names="datagram_send_buffer_size",
    ),
    Row("TransportConfig", "initial_rtt=0", ValueError, names="initial_rtt"),
    Row("TransportConfig", "initial_rtt=nan", ValueError, names="initial_rtt"),
    Row("TransportConfig", "initial_rtt=inf", ValueError, names="initial_rtt"),
    Row("TransportConfig", "initial_rtt=61", ValueError, names="initial_rtt"),
    Row("TransportConfig", "initial_rtt='0.1'", TypeError, names="initial_rtt"),
    Row("TransportConfig", "a positional argument", TypeError),
    # -- Server ------------------------------------------------------------------------------
    Row("Server", "no arguments", TypeError),
    Row("Server", "certificate_chain=b'' (empty)", ValueError, names="certificate_chain"),
    Row("Server", "certificate_chain=DER garbage", ValueError, names="certificate_chain"),
    Row(
        "Server",
        "certificate_chain=PEM armour around garbage",
        ValueError,
        names="certificate_chain",
    ),
    Row("Server", "certificate_chain=[] (empty list)", ValueError, names="certificate_chain"),
    Row("Server", "certificate_chain=42", TypeError, names="certificate_chain"),
    Row(
        "Server", "certificate_chain=a path that does not exist", OSError, names="certificate_chain"
    ),
    Row("Server", "private_key=DER garbage", ValueError, names="private_key"),
    Row("Server", "private_key=PEM armour around garbage", ValueError, names="private_key"),
    Row("Server", "private_key=b'' (empty)", ValueError, names="private_key"),
    Row("Server", "private_key=the certificate", ValueError, names="private_key"),
    Row("Server", "private_key of another certificate (mismatch)", ValueError, names="private_key"),
    Row("Server", "private_key of another certificate, both PEM", ValueError, names="private_key"),
    Row("Server", "bind='nonsense'", ValueError, names="bind"),
    Row("Server", "bind='127.0.0.1' (no port)", ValueError, names="bind"),
    Row("Server", "bind='127.0.0.1:65536'", ValueError, names="bind"),
    Row("Server", "bind=4433 (int)", TypeError, names="bind"),
    Row(
        "Server",
        "bind=an address of no local interface (192.0.2.1:0)",
        OSError,
        attrs={"errno": errno.EADDRNOTAVAIL},
    ),
    Row("Server", "bind=an address in use", OSError, attrs={"errno": errno.EADDRINUSE}),
    Row("Server", "congestion_control='fast'", ValueError, names="congestion_control"),
    Row("Server", "max_idle_timeout=0", ValueError, names="max_idle_timeout"),
    Row("Server", "max_idle_timeout=-1", ValueError, names="max_idle_timeout"),
    Row("Server", "max_idle_timeout=nan", ValueError, names="max_idle_timeout"),
    Row("Server", "max_idle_timeout=inf", ValueError, names="max_idle_timeout"),
    Row("Server", "keep_alive_interval=-1", ValueError, names="keep_alive_interval"),
    Row("Server", "handshake_timeout=0", ValueError, names="handshake_timeout"),
    Row("Server", "handshake_timeout=nan", ValueError, names="handshake_timeout"),
    Row("Server", "max_pending_handshakes=0", ValueError, names="max_pending_handshakes"),
    Row("Server", "max_pending_handshakes=2**63", ValueError, names="max_pending_handshakes"),
    Row("Server", "transport={} (not a TransportConfig)", TypeError, names="transport"),
    *bad_codes("Server.close", "code"),
    *bad_reasons("Server.close"),
    Row("Server.close", "timeout=-1", ValueError, names="timeout"),
    Row("Server.close", "called twice", None),
    Row(
        "Server.reload_certificates",
        "DER garbage (the old certificate stays in use)",
        ValueError,
        names="certificate_chain",
    ),
    Row(
        "Server.reload_certificates",
        "a key that does not match (the old one stays in use)",
        ValueError,
        names="private_key",
    ),
    Row("Server.accept", "on a closed server", None),
    Row("Server.__anext__", "on a closed server", StopAsyncIteration),
    # -- SessionRequest ---------------------------------------------------------------------
    Row(
        "SessionRequest.accept",
        "protocol= one the client did not offer",
        ValueError,
        names="protocol",
    ),
    Row("SessionRequest.accept", "called twice", wt.SessionClosedLocally),
    Row("SessionRequest.reject", "status_code=200 (2xx)", ValueError, names="status_code"),
    Row("SessionRequest.reject", "status_code=99", ValueError, names="status_code"),
    Row("SessionRequest.reject", "status_code=600", ValueError, names="status_code"),
    Row("SessionRequest.reject", "status_code=-1", ValueError, names="status_code"),
    Row("SessionRequest.reject", "status_code=2**64", ValueError, names="status_code"),
    Row("SessionRequest.reject", "status_code='404'", TypeError, names="status_code"),
    Row("SessionRequest.reject", "after accept", wt.SessionClosedLocally),
    # -- Client ------------------------------------------------------------------------------
    Row("Client", "server_certificate_hashes=[]", ValueError, names="server_certificate_hashes"),
    Row(
        "Client",
        "server_certificate_hashes=[31 bytes]",
        ValueError,
        names="server_certificate_hashes",
    ),
    Row(
        "Client",
        "server_certificate_hashes=[33 bytes]",
        ValueError,
        names="server_certificate_hashes",
    ),
    Row(
        "Client",
        "server_certificate_hashes=32 bytes (not a list)",
        TypeError,
        names="server_certificate_hashes",
    ),
    Row(
        "Client",
        "server_certificate_hashes=[hex str]",
        TypeError,
        names="server_certificate_hashes",
    ),
    Row(
        "Client",
        "server_certificate_hashes and no_cert_verification=True",
        ValueError,
        names="server_certificate_hashes",
    ),
    Row("Client", "ca_certificates=DER garbage", ValueError, names="ca_certificates"),
    Row(
        "Client",
        "ca_certificates and server_certificate_hashes",
        ValueError,
        names="ca_certificates",
    ),
    Row("Client", "no_cert_verification='yes'", TypeError, names="no_cert_verification"),
    Row("Client", "congestion_control='fast'", ValueError, names="congestion_control"),
    Row("Client", "max_idle_timeout=-1", ValueError, names="max_idle_timeout"),
    Row("Client", "bind='nonsense'", ValueError, names="bind"),
    Row("Client", "bind=an address in use", OSError, names="bind"),
    Row("Client", "transport='x'", TypeError, names="transport"),
    *bad_codes("Client.close", "code"),
    Row("Client.close", "reason='\\ud800' (lone surrogate, not UTF-8)", UnicodeEncodeError),
    Row("Client.close", "reason of 2,000 bytes (QUIC CONNECTION_CLOSE has no 1,024 limit)", None),
    # -- Client.connect ----------------------------------------------------------------------
    Row("Client.connect", "url='' (empty)", ValueError, names="url"),
    Row("Client.connect", "url='not a url'", ValueError, names="url"),
    Row("Client.connect", "url='http://…' (not https)", ValueError, names="url"),
    Row("Client.connect", "url='wss://…' (not https)", ValueError, names="url"),
    Row("Client.connect", "url='https://' (no host)", ValueError, names="url"),
    Row("Client.connect", "url with a lone surrogate", UnicodeEncodeError),
    Row("Client.connect", "url=123", TypeError, names="url"),
    Row("Client.connect", "url with a 1 MiB path", wt.ConnectError),
    Row("Client.connect", "protocols=[''] (empty)", ValueError, names="protocols"),
    Row("Client.connect", "protocols=['é'] (not ASCII)", ValueError, names="protocols"),
    Row("Client.connect", "protocols=['a\\nb'] (control character)", ValueError, names="protocols"),
    Row("Client.connect", "protocols='abc' (str, not a list)", TypeError, names="protocols"),
    Row("Client.connect", "headers={'bad name': 'v'}", ValueError, names="headers"),
    Row("Client.connect", "headers={'x': 'a\\nb'}", ValueError, names="headers"),
    Row("Client.connect", "headers=1", TypeError, names="headers"),
    Row("Client.connect", "headers={'x': 1}", TypeError, names="headers"),
    Row("Client.connect", "headers with a 64 KiB value", wt.ConnectError),
    Row(
        "Client.connect",
        "server_certificate_hashes do not match",
        wt.ConnectError,
        names="pin the hash the server printed at its last start",
    ),
    Row(
        "Client.connect",
        "default verification (system roots), self-signed server",
        wt.ConnectError,
        names="a self-signed server needs server_certificate_hashes",
    ),
    Row(
        "Client.connect",
        "ca_certificates that did not sign the server's certificate",
        wt.ConnectError,
        names="a private CA needs ca_certificates",
    ),
    Row("Client.connect", "pinned hash of a certificate valid for 30 days", wt.ConnectError),
    Row("Client.connect", "pinned hash of an expired certificate", wt.ConnectError),
    Row("Client.connect", "pinned hash of a not-yet-valid certificate", wt.ConnectError),
    Row("Client.connect", "nothing listening (max_idle_timeout=1)", wt.ConnectError),
    Row(
        "Client.connect",
        "the server rejects with 403",
        wt.SessionRejected,
        attrs={"status_code": 403},
    ),
    Row("Client.connect", "on a closed client", wt.ConnectError),
    # -- Session ----------------------------------------------------------------------------
    *bad_codes("Session.close", "code"),
    *bad_codes("Session.close", "code", " as keyword, with a reason"),
    *bad_reasons("Session.close"),
    Row("Session.send_datagram", "data='text' (str)", TypeError, names="data"),
    Row("Session.send_datagram", "data=123", TypeError, names="data"),
    Row("Session.send_datagram", "max_datagram_size + 1 bytes", wt.DatagramTooLargeError),
    Row("Session.send_datagram", "16 MiB", wt.DatagramTooLargeError),
    Row("Session.send_datagram", "b'' (empty)", None),
    Row(
        "Session.send_datagram",
        "to a peer that does not accept datagrams",
        wt.DatagramNotSupportedError,
        attrs={"reason": "unsupported_by_peer"},
    ),
    Row(
        "Session.send_datagram",
        "with datagrams disabled on this side",
        wt.DatagramNotSupportedError,
        attrs={"reason": "disabled_locally"},
    ),
    Row("Session.send_datagram_wait", "max_datagram_size + 1 bytes", wt.DatagramTooLargeError),
    Row("Session.send_datagram_wait", "data=None", TypeError, names="data"),
    Row("Session.open_bi", "on a closed session", wt.SessionClosedLocally),
    Row("Session.open_uni", "on a closed session", wt.SessionClosedLocally),
    Row("Session.accept_bi", "on a closed session", wt.SessionClosedLocally),
    Row("Session.accept_uni", "on a closed session", wt.SessionClosedLocally),
    Row("Session.send_datagram", "on a closed session", wt.SessionClosedLocally),
    Row("Session.send_datagram_wait", "on a closed session", wt.SessionClosedLocally),
    Row("Session.receive_datagram", "on a closed session", wt.SessionClosedLocally),
    Row("Session.datagrams", "iterating a closed session", StopAsyncIteration),
    Row("Session.close", "called twice", None),
    # -- SendStream -------------------------------------------------------------------------
    Row("SendStream.write", "data='text' (str)", TypeError, names="data"),
    Row("SendStream.write", "data=None", TypeError, names="data"),
    Row("SendStream.write", "b'' (empty)", None),
    Row("SendStream.write", "after finish()", wt.StreamClosedLocally),
    Row("SendStream.write", "after reset()", wt.StreamClosedLocally),
    Row(
        "SendStream.write",
        "after the peer's STOP_SENDING(5)",
        wt.StreamClosedByPeer,
        attrs={"kind": "stop", "code": 5},
    ),
    Row("SendStream.write_some", "data=1.5", TypeError, names="data"),
    Row("SendStream.finish", "called twice", wt.StreamClosedLocally),
    Row("SendStream.reset", "after finish()", wt.StreamClosedLocally),
    Row("SendStream.reset", "called twice", wt.StreamClosedLocally),
    *bad_codes("SendStream.reset", "error_code"),
    *bad_codes("SendStream.reset", "error_code", " as keyword"),
    Row("SendStream.priority", "= 'high'", TypeError),
    # -- RecvStream -------------------------------------------------------------------------
    Row("RecvStream.read", "n=-2", ValueError, names="n"),
    Row("RecvStream.read", "n='1'", TypeError, names="n"),
    Row("RecvStream.read", "n=2**64", ValueError, names="n"),
    Row("RecvStream.read", "limit=-1", ValueError, names="limit"),
    Row(
        "RecvStream.read", "limit=10, 100 bytes arrive", wt.StreamTooLongError, attrs={"limit": 10}
    ),
    Row("RecvStream.read", "after stop()", wt.StreamClosedLocally),
    Row(
        "RecvStream.read",
        "after the peer's RESET_STREAM(7)",
        wt.StreamClosedByPeer,
        attrs={"kind": "reset", "code": 7},
    ),
    Row("RecvStream.readexactly", "n=-1", ValueError, names="n"),
    Row(
        "RecvStream.readexactly",
        "n=100, the stream ends after 10 bytes",
        wt.StreamIncompleteReadError,
        attrs={"expected": 100, "partial": b"0123456789"},
    ),
    Row("RecvStream.readinto", "buffer=b'bytes' (read-only)", TypeError, names="buffer"),
    Row("RecvStream.readinto", "buffer=123", TypeError, names="buffer"),
    Row("RecvStream.readinto", "a non-contiguous memoryview", ValueError, names="buffer"),
    Row("RecvStream.stop", "called twice", wt.StreamClosedLocally),
    *bad_codes("RecvStream.stop", "error_code"),
]
