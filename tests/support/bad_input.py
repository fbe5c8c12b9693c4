"""The bad-input table: every public function, constructor and method with invalid
arguments and in invalid states, and the documented exception each raises (one
:class:`Case` per row). ``tests/reliability/test_bad_input.py`` runs every row;
``docs/generate.py`` renders ``docs/errors.md`` from the same rows, so the document
cannot drift from the tested behaviour.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import web_transport as wt

from tests.reliability._support import BOUND
from tests.support.certs import build as _certs
from tests.support.peers import Cert, Served

U32 = 2**32
GARBAGE = b"\x30\x82\x01\x00 this is not DER"
PEM_GARBAGE = b"-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n"
KEY_PEM_GARBAGE = b"-----BEGIN PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END PRIVATE KEY-----\n"


# -- the context each case runs in --------------------------------------------------------


@dataclass
class Ctx:
    """Live objects for the cases: an echo server, a "manual" server whose requests the
    case answers itself, a pinned client and a long-lived session to the echo server."""

    certs: Cert
    echo: Served
    manual: Served
    client: wt.Client
    session: wt.Session
    tmp: Path
    cleanup: list[Callable[[], Any]] = field(default_factory=list)

    @property
    def manual_url(self) -> str:
        return self.manual.url

    def server(self, **kwargs: Any) -> wt.Server:
        """A new server with ``kwargs`` overriding a valid configuration."""
        server = self.certs.server(**kwargs)
        self.cleanup.append(server.close)
        return server

    def new_client(self, **kwargs: Any) -> wt.Client:
        """A new client pinning the certificate, with ``kwargs`` added (a case may combine
        the pin with another way to verify)."""
        args: dict[str, Any] = {"server_certificate_hashes": [self.certs.hash], **kwargs}
        client = wt.Client(**args)
        self.cleanup.append(client.close)
        return client

    async def fresh_session(self) -> wt.Session:
        session = await asyncio.wait_for(self.client.connect(self.echo.url), BOUND)
        self.cleanup.append(session.close)
        return session

    async def closed_session(self) -> wt.Session:
        session = await self.fresh_session()
        session.close()
        await asyncio.wait_for(session.wait_closed(), BOUND)
        return session

    async def pair(self) -> tuple[wt.Session, wt.Session]:
        """``(client session, server session)`` on the manual server."""
        cs, ss = await self.manual.connect(self.client)
        self.cleanup.extend([cs.close, ss.close])
        return cs, ss

    async def request(self) -> tuple[wt.SessionRequest, asyncio.Task[wt.Session]]:
        """A pending session request on the manual server, and the client's connect."""
        connecting = asyncio.ensure_future(self.client.connect(self.manual_url))
        self.cleanup.append(connecting.cancel)
        request = await self.manual.next_request(BOUND)
        return request, connecting

    async def stream(self) -> tuple[wt.SendStream, wt.RecvStream]:
        """A stream on a fresh session to the echo server."""
        return await (await self.fresh_session()).open_bi()

    def run_cleanup(self) -> None:
        for f in reversed(self.cleanup):
            with contextlib.suppress(Exception):
                f()
        self.cleanup.clear()


# -- the table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One row of docs/errors.md.

    ``run(ctx)`` performs the call (its result is awaited when awaitable). It must raise
    ``raises`` (with ``attrs``, and a message or note matching ``names`` — the argument
    name — when given), or, when ``raises`` is None, return ``returns``. ``bug`` marks a
    known binding bug: the row states the documented behaviour and the test is a strict
    xfail.
    """

    api: str
    given: str
    raises: type[BaseException] | None
    run: Callable[[Ctx], Any]
    names: str = ""
    attrs: Mapping[str, Any] = field(default_factory=dict)
    returns: Any = None
    bug: str = ""

    @property
    def id(self) -> str:
        return f"{self.api}: {self.given}"


def bad(value: object) -> Any:
    """Pass a deliberately wrong-typed argument past the type checker."""
    return value


def srv(**kwargs: Any) -> Callable[[Ctx], Any]:
    return lambda c: c.server(**kwargs)


def cli(**kwargs: Any) -> Callable[[Ctx], Any]:
    return lambda c: c.new_client(**kwargs)


def connect(url: str | Callable[[Ctx], str], **kwargs: Any) -> Callable[[Ctx], Any]:
    def run(c: Ctx) -> Any:
        target = url(c) if callable(url) else url
        return c.client.connect(bad(target), **kwargs)

    return run


def on_session(op: Callable[[wt.Session], Any]) -> Callable[[Ctx], Awaitable[Any]]:
    async def run(c: Ctx) -> Any:
        return await _maybe_await(op(await c.fresh_session()))

    return run


def on_closed_session(op: Callable[[wt.Session], Any]) -> Callable[[Ctx], Awaitable[Any]]:
    async def run(c: Ctx) -> Any:
        return await _maybe_await(op(await c.closed_session()))

    return run


def on_send(*ops: Callable[[wt.SendStream], Any]) -> Callable[[Ctx], Awaitable[Any]]:
    """Run ``ops`` in turn on the send half of a fresh stream; return the last result."""

    async def run(c: Ctx) -> Any:
        send, _ = await c.stream()
        result = None
        for op in ops:
            result = await _maybe_await(op(send))
        return result

    return run


def on_recv(
    *ops: Callable[[wt.RecvStream], Any], data: bytes | None = None
) -> Callable[[Ctx], Awaitable[Any]]:
    """Run ``ops`` on the receive half of a fresh echo stream (after sending ``data`` and
    finishing, when given)."""

    async def run(c: Ctx) -> Any:
        send, recv = await c.stream()
        if data is not None:
            await send.write(data)
            await send.finish()
        result = None
        for op in ops:
            result = await _maybe_await(op(recv))
        return result

    return run


def on_request(*ops: Callable[[wt.SessionRequest], Any]) -> Callable[[Ctx], Awaitable[Any]]:
    async def run(c: Ctx) -> Any:
        request, _ = await c.request()
        result = None
        for op in ops:
            result = await _maybe_await(op(request))
        return result

    return run


async def _maybe_await(x: Any) -> Any:
    if isinstance(x, Awaitable):
        return await asyncio.wait_for(x, BOUND)
    return x


def _in_use_port(c: Ctx) -> str:
    return f"127.0.0.1:{c.echo.port}"


async def _closed_server_accept(c: Ctx) -> Any:
    server = c.server()
    server.close()
    return await server.accept()


async def _closed_server_anext(c: Ctx) -> Any:
    server = c.server()
    server.close()
    return await server.__anext__()


async def _connect_closed_client(c: Ctx) -> Any:
    client = c.new_client()
    client.close()
    return await client.connect(c.echo.url)


async def _connect_pinned(c: Ctx, made: _certs.Made) -> Any:
    server = c.server(certificate_chain=[made.cert_der], private_key=made.key_der)
    client = c.new_client(
        server_certificate_hashes=[wt.certificate_hash(made.cert_der)], max_idle_timeout=5.0
    )
    return await client.connect(f"https://127.0.0.1:{server.local_addr[1]}/")


async def _connect_wrong_hash(c: Ctx) -> Any:
    client = c.new_client(server_certificate_hashes=[b"\x00" * 32], max_idle_timeout=5.0)
    return await client.connect(c.echo.url)


async def _connect_default_verification(c: Ctx) -> Any:
    client = c.new_client(server_certificate_hashes=None, max_idle_timeout=5.0)
    return await client.connect(c.echo.url)


async def _connect_other_ca(c: Ctx) -> Any:
    other, _ = wt.generate_self_signed(["localhost", "127.0.0.1"])
    client = c.new_client(
        server_certificate_hashes=None, ca_certificates=[other], max_idle_timeout=5.0
    )
    return await client.connect(c.echo.url)


async def _connect_nothing_listening(c: Ctx) -> Any:
    server = c.server()
    port = server.local_addr[1]
    server.close()
    await asyncio.wait_for(server.wait_closed(), BOUND)
    client = c.new_client(max_idle_timeout=1.0)
    return await client.connect(f"https://127.0.0.1:{port}/")


async def _connect_rejected(c: Ctx) -> Any:
    request, connecting = await c.request()
    await request.reject(403)
    return await connecting


async def _accept_twice(c: Ctx) -> Any:
    request, connecting = await c.request()
    session = await request.accept()
    c.cleanup.append(session.close)
    await connecting
    return await request.accept()


async def _reject_after_accept(c: Ctx) -> Any:
    request, connecting = await c.request()
    session = await request.accept()
    c.cleanup.append(session.close)
    await connecting
    return await request.reject(404)


async def _write_after_peer_stop(c: Ctx) -> Any:
    cs, ss = await c.pair()
    send, _ = await cs.open_bi()
    await send.write(b"x")
    _, recv = await asyncio.wait_for(ss.accept_bi(), BOUND)
    recv.stop(5)
    for _ in range(1000):  # until STOP_SENDING arrives (bounded)
        await send.write(b"y" * 1024)
        await asyncio.sleep(0.01)
    raise AssertionError("STOP_SENDING never arrived")


async def _read_after_peer_reset(c: Ctx) -> Any:
    cs, ss = await c.pair()
    send, recv = await cs.open_bi()
    await send.write(b"x")
    peer_send, _ = await asyncio.wait_for(ss.accept_bi(), BOUND)
    peer_send.reset(7)
    return await recv.read()


async def _datagram_to_peer_without(c: Ctx) -> Any:
    client = c.new_client(transport=wt.TransportConfig(datagram_receive_buffer_size=None))
    cs, ss = await c.manual.connect(client)
    c.cleanup.extend([cs.close, ss.close])
    return ss.send_datagram(b"x")


async def _datagram_disabled_locally(c: Ctx) -> Any:
    client = c.new_client(transport=wt.TransportConfig(datagram_receive_buffer_size=None))
    session = await client.connect(c.echo.url)
    c.cleanup.append(session.close)
    return session.send_datagram(b"x")


async def _reload_garbage(c: Ctx) -> Any:
    return c.echo.server.reload_certificates(GARBAGE, c.certs.private_key)


async def _reload_wrong_key(c: Ctx) -> Any:
    return c.echo.server.reload_certificates([c.certs.certificate], _certs.other_key())


async def _huge_datagram(c: Ctx) -> Any:
    return c.session.send_datagram(b"x" * (c.session.max_datagram_size + 1))


async def _huge_datagram_wait(c: Ctx) -> Any:
    return await c.session.send_datagram_wait(b"x" * (c.session.max_datagram_size + 1))


async def _non_contiguous(c: Ctx) -> Any:
    _, recv = await c.stream()
    return await recv.readinto(memoryview(bytearray(16))[::2])


async def _datagrams_iter_closed(c: Ctx) -> Any:
    session = await c.closed_session()
    return await session.datagrams().__anext__()


def _bad_codes(
    api: str, call: Callable[[Any], Callable[[Ctx], Any]], arg: str, how: str = ""
) -> list[Case]:
    """The standard out-of-range and wrong-type rows for a code argument (``how`` says
    how it is passed when that is not positionally)."""
    return [
        Case(api, f"{arg}=-1{how}", ValueError, call(-1), names=arg),
        Case(
            api,
            f"{arg}=2**32 (over the 32-bit WebTransport limit){how}",
            ValueError,
            call(U32),
            names=arg,
        ),
        Case(api, f"{arg}=2**62 (QUIC varint limit){how}", ValueError, call(2**62), names=arg),
        Case(api, f"{arg}=2**64{how}", ValueError, call(2**64), names=arg),
        Case(api, f"{arg}='1' (str){how}", TypeError, call("1"), names=arg),
        Case(api, f"{arg}=1.0 (float){how}", TypeError, call(1.0), names=arg),
        Case(api, f"{arg}=True (bool){how}", TypeError, call(True), names=arg),
        Case(api, f"{arg}=b'\\x01' (bytes){how}", TypeError, call(b"\x01"), names=arg),
    ]


def _reasons(api: str, call: Callable[[str], Callable[[Ctx], Any]]) -> list[Case]:
    return [
        Case(
            api, "reason='\\ud800' (lone surrogate, not UTF-8)", UnicodeEncodeError, call("\ud800")
        ),
        Case(api, "reason of 1,025 bytes", ValueError, call("x" * 1025), names="reason"),
        Case(
            api,
            "reason of 513 'é' (1,026 UTF-8 bytes)",
            ValueError,
            call("é" * 513),
            names="reason",
        ),
    ]


CASES: list[Case] = [
    # -- generate_self_signed ------------------------------------------------------------
    Case(
        "generate_self_signed",
        "subject_alt_names=[]",
        ValueError,
        lambda c: wt.generate_self_signed([]),
        names="subject_alt_names",
    ),
    Case(
        "generate_self_signed",
        "subject_alt_names='localhost' (str, not a list)",
        TypeError,
        lambda c: wt.generate_self_signed(bad("localhost")),
        names="subject_alt_names",
    ),
    Case(
        "generate_self_signed",
        "subject_alt_names=[1]",
        TypeError,
        lambda c: wt.generate_self_signed(bad([1])),
        names="subject_alt_names",
    ),
    Case(
        "generate_self_signed",
        "subject_alt_names=['\\ud800']",
        UnicodeEncodeError,
        lambda c: wt.generate_self_signed(["\ud800"]),
        names="subject_alt_names",
    ),
    Case(
        "generate_self_signed",
        "subject_alt_names=[''] (empty name)",
        ValueError,
        lambda c: wt.generate_self_signed([""]),
        names="subject_alt_names",
    ),
    Case(
        "generate_self_signed",
        "validity_days=0",
        ValueError,
        lambda c: wt.generate_self_signed(["localhost"], validity_days=0),
        names="validity_days",
    ),
    Case(
        "generate_self_signed",
        "validity_days=15 (browsers refuse > 14)",
        ValueError,
        lambda c: wt.generate_self_signed(["localhost"], validity_days=15),
        names="validity_days",
    ),
    Case(
        "generate_self_signed",
        "validity_days=-1",
        ValueError,
        lambda c: wt.generate_self_signed(["localhost"], validity_days=-1),
        names="validity_days",
    ),
    Case(
        "generate_self_signed",
        "validity_days=2**64",
        ValueError,
        lambda c: wt.generate_self_signed(["localhost"], validity_days=2**64),
        names="validity_days",
    ),
    Case(
        "generate_self_signed",
        "validity_days=1.5",
        TypeError,
        lambda c: wt.generate_self_signed(["localhost"], validity_days=bad(1.5)),
        names="validity_days",
    ),
    # -- certificate_hash ------------------------------------------------------------------
    Case(
        "certificate_hash",
        "b'' (empty)",
        ValueError,
        lambda c: wt.certificate_hash(b""),
        names="certificate",
    ),
    Case(
        "certificate_hash",
        "DER garbage",
        ValueError,
        lambda c: wt.certificate_hash(GARBAGE),
        names="certificate",
    ),
    Case(
        "certificate_hash",
        "PEM armour around garbage",
        ValueError,
        lambda c: wt.certificate_hash(PEM_GARBAGE),
        names="certificate",
    ),
    Case(
        "certificate_hash",
        "a private key (DER) instead of a certificate",
        ValueError,
        lambda c: wt.certificate_hash(c.certs.private_key),
        names="certificate",
    ),
    Case(
        "certificate_hash",
        "a private key (PEM) instead of a certificate",
        ValueError,
        lambda c: wt.certificate_hash(_certs.expired().key_pem),
        names="certificate",
    ),
    Case(
        "certificate_hash",
        "16 MiB of garbage",
        ValueError,
        lambda c: wt.certificate_hash(b"\x30" * (16 << 20)),
        names="certificate",
    ),
    Case(
        "certificate_hash",
        "[] (empty list)",
        ValueError,
        lambda c: wt.certificate_hash(bad([])),
        names="certificate",
    ),
    Case(
        "certificate_hash",
        "None",
        TypeError,
        lambda c: wt.certificate_hash(bad(None)),
        names="certificate",
    ),
    Case(
        "certificate_hash",
        "42",
        TypeError,
        lambda c: wt.certificate_hash(bad(42)),
        names="certificate",
    ),
    Case(
        "certificate_hash",
        "a path that does not exist",
        OSError,
        lambda c: wt.certificate_hash("/nonexistent/cert.pem"),
        names="certificate",
    ),
    Case(
        "certificate_hash",
        "a directory path",
        OSError,
        lambda c: wt.certificate_hash(c.tmp),
        names="certificate",
    ),
    Case(
        "certificate_hash",
        "'\\ud800' (str that is not UTF-8)",
        UnicodeEncodeError,
        lambda c: wt.certificate_hash("\ud800"),
    ),
    # -- TransportConfig -------------------------------------------------------------------
    Case(
        "TransportConfig",
        "max_concurrent_bidi_streams=-1",
        ValueError,
        lambda c: wt.TransportConfig(max_concurrent_bidi_streams=-1),
        names="max_concurrent_bidi_streams",
    ),
    Case(
        "TransportConfig",
        "max_concurrent_uni_streams=2**32",
        ValueError,
        lambda c: wt.TransportConfig(max_concurrent_uni_streams=U32),
        names="max_concurrent_uni_streams",
    ),
    Case(
        "TransportConfig",
        "max_concurrent_bidi_streams=2**63",
        ValueError,
        lambda c: wt.TransportConfig(max_concurrent_bidi_streams=2**63),
        names="max_concurrent_bidi_streams",
    ),
    Case(
        "TransportConfig",
        "max_concurrent_bidi_streams='1'",
        TypeError,
        lambda c: wt.TransportConfig(max_concurrent_bidi_streams=bad("1")),
        names="max_concurrent_bidi_streams",
    ),
    Case(
        "TransportConfig",
        "stream_receive_window=1023 (below 1 KiB)",
        ValueError,
        lambda c: wt.TransportConfig(stream_receive_window=1023),
        names="stream_receive_window",
    ),
    Case(
        "TransportConfig",
        "stream_receive_window=2**32",
        ValueError,
        lambda c: wt.TransportConfig(stream_receive_window=U32),
        names="stream_receive_window",
    ),
    Case(
        "TransportConfig",
        "receive_window=2**62",
        ValueError,
        lambda c: wt.TransportConfig(receive_window=2**62),
        names="receive_window",
    ),
    Case(
        "TransportConfig",
        "send_window=0",
        ValueError,
        lambda c: wt.TransportConfig(send_window=0),
        names="send_window",
    ),
    Case(
        "TransportConfig",
        "datagram_receive_buffer_size=-1",
        ValueError,
        lambda c: wt.TransportConfig(datagram_receive_buffer_size=-1),
        names="datagram_receive_buffer_size",
    ),
    Case(
        "TransportConfig",
        "datagram_send_buffer_size=2**62",
        ValueError,
        lambda c: wt.TransportConfig(datagram_send_buffer_size=2**62),
        names="datagram_send_buffer_size",
    ),
    Case(
        "TransportConfig",
        "initial_rtt=0",
        ValueError,
        lambda c: wt.TransportConfig(initial_rtt=0),
        names="initial_rtt",
    ),
    Case(
        "TransportConfig",
        "initial_rtt=nan",
        ValueError,
        lambda c: wt.TransportConfig(initial_rtt=float("nan")),
        names="initial_rtt",
    ),
    Case(
        "TransportConfig",
        "initial_rtt=inf",
        ValueError,
        lambda c: wt.TransportConfig(initial_rtt=float("inf")),
        names="initial_rtt",
    ),
    Case(
        "TransportConfig",
        "initial_rtt=61",
        ValueError,
        lambda c: wt.TransportConfig(initial_rtt=61),
        names="initial_rtt",
    ),
    Case(
        "TransportConfig",
        "initial_rtt='0.1'",
        TypeError,
        lambda c: wt.TransportConfig(initial_rtt=bad("0.1")),
        names="initial_rtt",
    ),
    Case(
        "TransportConfig", "a positional argument", TypeError, lambda c: bad(wt.TransportConfig)(1)
    ),
    # -- Server ------------------------------------------------------------------------------
    Case("Server", "no arguments", TypeError, lambda c: bad(wt.Server)()),
    Case(
        "Server",
        "certificate_chain=b'' (empty)",
        ValueError,
        srv(certificate_chain=b""),
        names="certificate_chain",
    ),
    Case(
        "Server",
        "certificate_chain=DER garbage",
        ValueError,
        srv(certificate_chain=GARBAGE),
        names="certificate_chain",
    ),
    Case(
        "Server",
        "certificate_chain=PEM armour around garbage",
        ValueError,
        srv(certificate_chain=PEM_GARBAGE),
        names="certificate_chain",
    ),
    Case(
        "Server",
        "certificate_chain=[] (empty list)",
        ValueError,
        srv(certificate_chain=[]),
        names="certificate_chain",
    ),
    Case(
        "Server",
        "certificate_chain=42",
        TypeError,
        srv(certificate_chain=42),
        names="certificate_chain",
    ),
    Case(
        "Server",
        "certificate_chain=a path that does not exist",
        OSError,
        srv(certificate_chain="/nonexistent/cert.pem"),
        names="certificate_chain",
    ),
    Case(
        "Server",
        "private_key=DER garbage",
        ValueError,
        srv(private_key=GARBAGE),
        names="private_key",
    ),
    Case(
        "Server",
        "private_key=PEM armour around garbage",
        ValueError,
        srv(private_key=KEY_PEM_GARBAGE),
        names="private_key",
    ),
    Case(
        "Server", "private_key=b'' (empty)", ValueError, srv(private_key=b""), names="private_key"
    ),
    Case(
        "Server",
        "private_key=the certificate",
        ValueError,
        lambda c: c.server(private_key=c.certs.certificate),
        names="private_key",
    ),
    Case(
        "Server",
        "private_key of another certificate (mismatch)",
        ValueError,
        lambda c: c.server(private_key=_certs.other_key()),
        names="private_key",
    ),
    Case(
        "Server",
        "private_key of another certificate, both PEM",
        ValueError,
        lambda c: c.server(
            certificate_chain=_certs.expired().cert_pem, private_key=_certs.too_long().key_pem
        ),
        names="private_key",
    ),
    Case("Server", "bind='nonsense'", ValueError, srv(bind="nonsense"), names="bind"),
    Case("Server", "bind='127.0.0.1' (no port)", ValueError, srv(bind="127.0.0.1"), names="bind"),
    Case("Server", "bind='127.0.0.1:65536'", ValueError, srv(bind="127.0.0.1:65536"), names="bind"),
    Case("Server", "bind=4433 (int)", TypeError, srv(bind=4433), names="bind"),
    Case(
        "Server",
        "bind=an address of no local interface (192.0.2.1:0)",
        OSError,
        srv(bind="192.0.2.1:0"),
        attrs={"errno": errno.EADDRNOTAVAIL},
    ),
    Case(
        "Server",
        "bind=an address in use",
        OSError,
        lambda c: c.server(bind=_in_use_port(c)),
        attrs={"errno": errno.EADDRINUSE},
    ),
    Case(
        "Server",
        "congestion_control='fast'",
        ValueError,
        srv(congestion_control="fast"),
        names="congestion_control",
    ),
    Case(
        "Server",
        "max_idle_timeout=0",
        ValueError,
        srv(max_idle_timeout=0),
        names="max_idle_timeout",
    ),
    Case(
        "Server",
        "max_idle_timeout=-1",
        ValueError,
        srv(max_idle_timeout=-1),
        names="max_idle_timeout",
    ),
    Case(
        "Server",
        "max_idle_timeout=nan",
        ValueError,
        srv(max_idle_timeout=float("nan")),
        names="max_idle_timeout",
    ),
    Case(
        "Server",
        "max_idle_timeout=inf",
        ValueError,
        srv(max_idle_timeout=float("inf")),
        names="max_idle_timeout",
    ),
    Case(
        "Server",
        "keep_alive_interval=-1",
        ValueError,
        srv(keep_alive_interval=-1),
        names="keep_alive_interval",
    ),
    Case(
        "Server",
        "handshake_timeout=0",
        ValueError,
        srv(handshake_timeout=0),
        names="handshake_timeout",
    ),
    Case(
        "Server",
        "handshake_timeout=nan",
        ValueError,
        srv(handshake_timeout=float("nan")),
        names="handshake_timeout",
    ),
    Case(
        "Server",
        "max_pending_handshakes=0",
        ValueError,
        srv(max_pending_handshakes=0),
        names="max_pending_handshakes",
    ),
    Case(
        "Server",
        "max_pending_handshakes=2**63",
        ValueError,
        srv(max_pending_handshakes=2**63),
        names="max_pending_handshakes",
    ),
    Case(
        "Server",
        "transport={} (not a TransportConfig)",
        TypeError,
        srv(transport={}),
        names="transport",
    ),
    *_bad_codes("Server.close", lambda v: lambda c: c.server().close(v), "code"),
    *_reasons("Server.close", lambda r: lambda c: c.server().close(0, r)),
    Case(
        "Server.close",
        "timeout=-1",
        ValueError,
        lambda c: c.server().close(timeout=-1),
        names="timeout",
    ),
    Case("Server.close", "called twice", None, lambda c: (s := c.server()).close() or s.close()),
    Case(
        "Server.reload_certificates",
        "DER garbage (the old certificate stays in use)",
        ValueError,
        _reload_garbage,
        names="certificate_chain",
    ),
    Case(
        "Server.reload_certificates",
        "a key that does not match (the old one stays in use)",
        ValueError,
        _reload_wrong_key,
        names="private_key",
    ),
    Case("Server.accept", "on a closed server", None, _closed_server_accept),
    Case("Server.__anext__", "on a closed server", StopAsyncIteration, _closed_server_anext),
    # -- SessionRequest ---------------------------------------------------------------------
    Case(
        "SessionRequest.accept",
        "protocol= one the client did not offer",
        ValueError,
        on_request(lambda r: r.accept(protocol="nope")),
        names="protocol",
    ),
    Case("SessionRequest.accept", "called twice", wt.SessionClosedLocally, _accept_twice),
    Case(
        "SessionRequest.reject",
        "status_code=200 (2xx)",
        ValueError,
        on_request(lambda r: r.reject(200)),
        names="status_code",
    ),
    Case(
        "SessionRequest.reject",
        "status_code=99",
        ValueError,
        on_request(lambda r: r.reject(99)),
        names="status_code",
    ),
    Case(
        "SessionRequest.reject",
        "status_code=600",
        ValueError,
        on_request(lambda r: r.reject(600)),
        names="status_code",
    ),
    Case(
        "SessionRequest.reject",
        "status_code=-1",
        ValueError,
        on_request(lambda r: r.reject(-1)),
        names="status_code",
    ),
    Case(
        "SessionRequest.reject",
        "status_code=2**64",
        ValueError,
        on_request(lambda r: r.reject(2**64)),
        names="status_code",
    ),
    Case(
        "SessionRequest.reject",
        "status_code='404'",
        TypeError,
        on_request(lambda r: r.reject(bad("404"))),
        names="status_code",
    ),
    Case("SessionRequest.reject", "after accept", wt.SessionClosedLocally, _reject_after_accept),
    # -- Client ------------------------------------------------------------------------------
    Case(
        "Client",
        "server_certificate_hashes=[]",
        ValueError,
        cli(server_certificate_hashes=[]),
        names="server_certificate_hashes",
    ),
    Case(
        "Client",
        "server_certificate_hashes=[31 bytes]",
        ValueError,
        cli(server_certificate_hashes=[b"x" * 31]),
        names="server_certificate_hashes",
    ),
    Case(
        "Client",
        "server_certificate_hashes=[33 bytes]",
        ValueError,
        cli(server_certificate_hashes=[b"x" * 33]),
        names="server_certificate_hashes",
    ),
    Case(
        "Client",
        "server_certificate_hashes=32 bytes (not a list)",
        TypeError,
        cli(server_certificate_hashes=b"x" * 32),
        names="server_certificate_hashes",
    ),
    Case(
        "Client",
        "server_certificate_hashes=[hex str]",
        TypeError,
        cli(server_certificate_hashes=["ab" * 16]),
        names="server_certificate_hashes",
    ),
    Case(
        "Client",
        "server_certificate_hashes and no_cert_verification=True",
        ValueError,
        cli(no_cert_verification=True),
        names="server_certificate_hashes",
    ),
    Case(
        "Client",
        "ca_certificates=DER garbage",
        ValueError,
        cli(server_certificate_hashes=None, ca_certificates=GARBAGE),
        names="ca_certificates",
    ),
    Case(
        "Client",
        "ca_certificates and server_certificate_hashes",
        ValueError,
        lambda c: c.new_client(ca_certificates=[c.certs.certificate]),
        names="ca_certificates",
    ),
    Case(
        "Client",
        "no_cert_verification='yes'",
        TypeError,
        cli(server_certificate_hashes=None, no_cert_verification="yes"),
        names="no_cert_verification",
    ),
    Case(
        "Client",
        "congestion_control='fast'",
        ValueError,
        cli(congestion_control="fast"),
        names="congestion_control",
    ),
    Case(
        "Client",
        "max_idle_timeout=-1",
        ValueError,
        cli(max_idle_timeout=-1),
        names="max_idle_timeout",
    ),
    Case("Client", "bind='nonsense'", ValueError, cli(bind="nonsense"), names="bind"),
    Case(
        "Client",
        "bind=an address in use",
        OSError,
        lambda c: c.new_client(bind=_in_use_port(c)),
        names="bind",
    ),
    Case("Client", "transport='x'", TypeError, cli(transport="x"), names="transport"),
    *_bad_codes("Client.close", lambda v: lambda c: c.new_client().close(v), "code"),
    Case(
        "Client.close",
        "reason='\\ud800' (lone surrogate, not UTF-8)",
        UnicodeEncodeError,
        lambda c: c.new_client().close(0, "\ud800"),
    ),
    Case(
        "Client.close",
        "reason of 2,000 bytes (QUIC CONNECTION_CLOSE has no 1,024 limit)",
        None,
        lambda c: c.new_client().close(0, "x" * 2000),
    ),
    # -- Client.connect ----------------------------------------------------------------------
    Case("Client.connect", "url='' (empty)", ValueError, connect(""), names="url"),
    Case("Client.connect", "url='not a url'", ValueError, connect("not a url"), names="url"),
    Case(
        "Client.connect",
        "url='http://…' (not https)",
        ValueError,
        connect("http://127.0.0.1:4433/"),
        names="url",
    ),
    Case(
        "Client.connect",
        "url='wss://…' (not https)",
        ValueError,
        connect("wss://127.0.0.1:4433/"),
        names="url",
    ),
    Case(
        "Client.connect", "url='https://' (no host)", ValueError, connect("https://"), names="url"
    ),
    Case(
        "Client.connect",
        "url with a lone surrogate",
        UnicodeEncodeError,
        connect("https://127.0.0.1/\ud800"),
    ),
    Case("Client.connect", "url=123", TypeError, connect(bad(123)), names="url"),
    Case(
        "Client.connect",
        "url with a 1 MiB path",
        wt.ConnectError,
        connect(lambda c: c.echo.url + "/" + "a" * (1 << 20)),
    ),
    Case(
        "Client.connect",
        "protocols=[''] (empty)",
        ValueError,
        connect(lambda c: c.echo.url, protocols=[""]),
        names="protocols",
    ),
    Case(
        "Client.connect",
        "protocols=['é'] (not ASCII)",
        ValueError,
        connect(lambda c: c.echo.url, protocols=["é"]),
        names="protocols",
    ),
    Case(
        "Client.connect",
        "protocols=['a\\nb'] (control character)",
        ValueError,
        connect(lambda c: c.echo.url, protocols=["a\nb"]),
        names="protocols",
    ),
    Case(
        "Client.connect",
        "protocols='abc' (str, not a list)",
        TypeError,
        connect(lambda c: c.echo.url, protocols="abc"),
        names="protocols",
    ),
    Case(
        "Client.connect",
        "headers={'bad name': 'v'}",
        ValueError,
        connect(lambda c: c.echo.url, headers={"bad name": "v"}),
        names="headers",
    ),
    Case(
        "Client.connect",
        "headers={'x': 'a\\nb'}",
        ValueError,
        connect(lambda c: c.echo.url, headers={"x": "a\nb"}),
        names="headers",
    ),
    Case(
        "Client.connect",
        "headers=1",
        TypeError,
        connect(lambda c: c.echo.url, headers=1),
        names="headers",
    ),
    Case(
        "Client.connect",
        "headers={'x': 1}",
        TypeError,
        connect(lambda c: c.echo.url, headers={"x": 1}),
        names="headers",
    ),
    Case(
        "Client.connect",
        "headers with a 64 KiB value",
        wt.ConnectError,
        connect(lambda c: c.echo.url, headers={"x-big": "v" * (64 << 10)}),
    ),
    Case(
        "Client.connect",
        "server_certificate_hashes do not match",
        wt.ConnectError,
        _connect_wrong_hash,
        names="pin the hash the server printed at its last start",
    ),
    Case(
        "Client.connect",
        "default verification (system roots), self-signed server",
        wt.ConnectError,
        _connect_default_verification,
        names="a self-signed server needs server_certificate_hashes",
    ),
    Case(
        "Client.connect",
        "ca_certificates that did not sign the server's certificate",
        wt.ConnectError,
        _connect_other_ca,
        names="a private CA needs ca_certificates",
    ),
    Case(
        "Client.connect",
        "pinned hash of a certificate valid for 30 days",
        wt.ConnectError,
        lambda c: _connect_pinned(c, _certs.too_long()),
    ),
    Case(
        "Client.connect",
        "pinned hash of an expired certificate",
        wt.ConnectError,
        lambda c: _connect_pinned(c, _certs.expired()),
    ),
    Case(
        "Client.connect",
        "pinned hash of a not-yet-valid certificate",
        wt.ConnectError,
        lambda c: _connect_pinned(c, _certs.not_yet_valid()),
    ),
    Case(
        "Client.connect",
        "nothing listening (max_idle_timeout=1)",
        wt.ConnectError,
        _connect_nothing_listening,
    ),
    Case(
        "Client.connect",
        "the server rejects with 403",
        wt.SessionRejected,
        _connect_rejected,
        attrs={"status_code": 403},
    ),
    Case("Client.connect", "on a closed client", wt.ConnectError, _connect_closed_client),
    # -- Session ----------------------------------------------------------------------------
    *_bad_codes("Session.close", lambda v: on_session(lambda s: s.close(v)), "code"),
    *_bad_codes(
        "Session.close",
        lambda v: on_session(lambda s: s.close(code=v, reason="x")),
        "code",
        " as keyword, with a reason",
    ),
    *_reasons("Session.close", lambda r: on_session(lambda s: s.close(0, r))),
    Case(
        "Session.send_datagram",
        "data='text' (str)",
        TypeError,
        on_session(lambda s: s.send_datagram(bad("text"))),
        names="data",
    ),
    Case(
        "Session.send_datagram",
        "data=123",
        TypeError,
        on_session(lambda s: s.send_datagram(bad(123))),
        names="data",
    ),
    Case(
        "Session.send_datagram",
        "max_datagram_size + 1 bytes",
        wt.DatagramTooLargeError,
        _huge_datagram,
    ),
    Case(
        "Session.send_datagram",
        "16 MiB",
        wt.DatagramTooLargeError,
        on_session(lambda s: s.send_datagram(b"x" * (16 << 20))),
    ),
    Case("Session.send_datagram", "b'' (empty)", None, on_session(lambda s: s.send_datagram(b""))),
    Case(
        "Session.send_datagram",
        "to a peer that does not accept datagrams",
        wt.DatagramNotSupportedError,
        _datagram_to_peer_without,
        attrs={"reason": "unsupported_by_peer"},
    ),
    Case(
        "Session.send_datagram",
        "with datagrams disabled on this side",
        wt.DatagramNotSupportedError,
        _datagram_disabled_locally,
        attrs={"reason": "disabled_locally"},
    ),
    Case(
        "Session.send_datagram_wait",
        "max_datagram_size + 1 bytes",
        wt.DatagramTooLargeError,
        _huge_datagram_wait,
    ),
    Case(
        "Session.send_datagram_wait",
        "data=None",
        TypeError,
        on_session(lambda s: s.send_datagram_wait(bad(None))),
        names="data",
    ),
    Case(
        "Session.open_bi",
        "on a closed session",
        wt.SessionClosedLocally,
        on_closed_session(lambda s: s.open_bi()),
    ),
    Case(
        "Session.open_uni",
        "on a closed session",
        wt.SessionClosedLocally,
        on_closed_session(lambda s: s.open_uni()),
    ),
    Case(
        "Session.accept_bi",
        "on a closed session",
        wt.SessionClosedLocally,
        on_closed_session(lambda s: s.accept_bi()),
    ),
    Case(
        "Session.accept_uni",
        "on a closed session",
        wt.SessionClosedLocally,
        on_closed_session(lambda s: s.accept_uni()),
    ),
    Case(
        "Session.send_datagram",
        "on a closed session",
        wt.SessionClosedLocally,
        on_closed_session(lambda s: s.send_datagram(b"x")),
    ),
    Case(
        "Session.send_datagram_wait",
        "on a closed session",
        wt.SessionClosedLocally,
        on_closed_session(lambda s: s.send_datagram_wait(b"x")),
    ),
    Case(
        "Session.receive_datagram",
        "on a closed session",
        wt.SessionClosedLocally,
        on_closed_session(lambda s: s.receive_datagram()),
    ),
    Case(
        "Session.datagrams",
        "iterating a closed session",
        StopAsyncIteration,
        _datagrams_iter_closed,
    ),
    Case("Session.close", "called twice", None, on_closed_session(lambda s: s.close(1, "again"))),
    # -- SendStream -------------------------------------------------------------------------
    Case(
        "SendStream.write",
        "data='text' (str)",
        TypeError,
        on_send(lambda s: s.write(bad("text"))),
        names="data",
    ),
    Case(
        "SendStream.write",
        "data=None",
        TypeError,
        on_send(lambda s: s.write(bad(None))),
        names="data",
    ),
    Case("SendStream.write", "b'' (empty)", None, on_send(lambda s: s.write(b""))),
    Case(
        "SendStream.write",
        "after finish()",
        wt.StreamClosedLocally,
        on_send(lambda s: s.finish(), lambda s: s.write(b"x")),
    ),
    Case(
        "SendStream.write",
        "after reset()",
        wt.StreamClosedLocally,
        on_send(lambda s: s.reset(1), lambda s: s.write(b"x")),
    ),
    Case(
        "SendStream.write",
        "after the peer's STOP_SENDING(5)",
        wt.StreamClosedByPeer,
        _write_after_peer_stop,
        attrs={"kind": "stop", "code": 5},
    ),
    Case(
        "SendStream.write_some",
        "data=1.5",
        TypeError,
        on_send(lambda s: s.write_some(bad(1.5))),
        names="data",
    ),
    Case(
        "SendStream.finish",
        "called twice",
        wt.StreamClosedLocally,
        on_send(lambda s: s.finish(), lambda s: s.finish()),
    ),
    Case(
        "SendStream.reset",
        "after finish()",
        wt.StreamClosedLocally,
        on_send(lambda s: s.finish(), lambda s: s.reset(0)),
    ),
    Case(
        "SendStream.reset",
        "called twice",
        wt.StreamClosedLocally,
        on_send(lambda s: s.reset(0), lambda s: s.reset(0)),
    ),
    *_bad_codes("SendStream.reset", lambda v: on_send(lambda s: s.reset(v)), "error_code"),
    *_bad_codes(
        "SendStream.reset",
        lambda v: on_send(lambda s: s.reset(error_code=v)),
        "error_code",
        " as keyword",
    ),
    Case(
        "SendStream.priority",
        "= 'high'",
        TypeError,
        on_send(lambda s: setattr(s, "priority", "high")),
    ),
    # -- RecvStream -------------------------------------------------------------------------
    Case("RecvStream.read", "n=-2", ValueError, on_recv(lambda r: r.read(-2)), names="n"),
    Case("RecvStream.read", "n='1'", TypeError, on_recv(lambda r: r.read(bad("1"))), names="n"),
    Case(
        "RecvStream.read",
        "n=2**64",
        ValueError,
        on_recv(lambda r: r.read(2**64)),
        names="n",
    ),
    Case(
        "RecvStream.read",
        "limit=-1",
        ValueError,
        on_recv(lambda r: r.read(-1, limit=-1)),
        names="limit",
    ),
    Case(
        "RecvStream.read",
        "limit=10, 100 bytes arrive",
        wt.StreamTooLongError,
        on_recv(lambda r: r.read(-1, limit=10), data=b"x" * 100),
        attrs={"limit": 10},
    ),
    Case(
        "RecvStream.read",
        "after stop()",
        wt.StreamClosedLocally,
        on_recv(lambda r: r.stop(0), lambda r: r.read()),
    ),
    Case(
        "RecvStream.read",
        "after the peer's RESET_STREAM(7)",
        wt.StreamClosedByPeer,
        _read_after_peer_reset,
        attrs={"kind": "reset", "code": 7},
    ),
    Case(
        "RecvStream.readexactly",
        "n=-1",
        ValueError,
        on_recv(lambda r: r.readexactly(-1)),
        names="n",
    ),
    Case(
        "RecvStream.readexactly",
        "n=100, the stream ends after 10 bytes",
        wt.StreamIncompleteReadError,
        on_recv(lambda r: r.readexactly(100), data=b"0123456789"),
        attrs={"expected": 100, "partial": b"0123456789"},
    ),
    Case(
        "RecvStream.readinto",
        "buffer=b'bytes' (read-only)",
        TypeError,
        on_recv(lambda r: r.readinto(bad(b"bytes"))),
        names="buffer",
    ),
    Case(
        "RecvStream.readinto",
        "buffer=123",
        TypeError,
        on_recv(lambda r: r.readinto(bad(123))),
        names="buffer",
    ),
    Case(
        "RecvStream.readinto",
        "a non-contiguous memoryview",
        ValueError,
        _non_contiguous,
        names="buffer",
    ),
    Case(
        "RecvStream.stop",
        "called twice",
        wt.StreamClosedLocally,
        on_recv(lambda r: r.stop(0), lambda r: r.stop(0)),
    ),
    *_bad_codes("RecvStream.stop", lambda v: on_recv(lambda r: r.stop(v)), "error_code"),
]
