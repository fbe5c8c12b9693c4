"""The runners of the bad-input table: for each row of ``ROWS`` in
``docs/errors_table.py`` (API, input, the documented exception), the call that makes it,
in ``RUNS`` under the row's id, and the context the calls run in (:class:`Ctx`).
``tests/reliability/test_bad_input.py`` runs every row with its runner;
``docs/generate.py`` renders ``docs/errors.md`` from the same rows, so the document cannot
drift from the tested behaviour. A new row needs its runner here:
``test_every_row_has_a_runner`` names a row without one, or a runner without a row.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import web_transport as wt

from docs.errors_table import BAD_CODES, BAD_REASONS, U32, bad_codes, bad_reasons
from tests.reliability._support import BOUND
from tests.support.certs import build as _certs
from tests.support.peers import Cert, Served

GARBAGE = b"\x30\x82\x01\x00 this is not DER"
PEM_GARBAGE = b"-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n"
KEY_PEM_GARBAGE = b"-----BEGIN PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END PRIVATE KEY-----\n"


# -- the context each row runs in ---------------------------------------------------------


@dataclass
class Ctx:
    """Live objects for the runners: an echo server, a "manual" server whose requests
    the runner answers itself, a pinned client and a long-lived session to the echo server."""

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
        """A new client pinning the certificate, with ``kwargs`` added (a runner may combine
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


# -- the runners -------------------------------------------------------------------------

#: A row's runner: it makes the call (the test awaits the result when awaitable).
Runner = Callable[[Ctx], Any]


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


def _code_runs(
    api: str, call: Callable[[Any], Runner], arg: str, how: str = ""
) -> dict[str, Runner]:
    """The runners of ``bad_codes(api, arg, how)``: each passes its row's code to ``call``."""
    rows = bad_codes(api, arg, how)
    return {row.id: call(code) for row, (_, code, _) in zip(rows, BAD_CODES, strict=True)}


def _reason_runs(api: str, call: Callable[[str], Runner]) -> dict[str, Runner]:
    """The runners of ``bad_reasons(api)``: each passes its row's reason to ``call``."""
    rows = bad_reasons(api)
    return {row.id: call(reason) for row, (_, reason, _, _) in zip(rows, BAD_REASONS, strict=True)}


#: The runner of each row of ``ROWS`` (``docs/errors_table.py``), keyed by the row's id
#: (``"api: given"``, also the test id), in the table's order.
RUNS: dict[str, Runner] = {
    # -- generate_self_signed ------------------------------------------------------------
    "generate_self_signed: subject_alt_names=[]": lambda c: wt.generate_self_signed([]),
    "generate_self_signed: subject_alt_names='localhost' (str, not a list)": lambda c: (
        wt.generate_self_signed(bad("localhost"))
    ),
    "generate_self_signed: subject_alt_names=[1]": lambda c: wt.generate_self_signed(bad([1])),
    "generate_self_signed: subject_alt_names=['\\ud800']": lambda c: wt.generate_self_signed(
        ["\ud800"]
    ),
    "generate_self_signed: subject_alt_names=[''] (empty name)": lambda c: wt.generate_self_signed(
        [""]
    ),
    "generate_self_signed: validity_days=0": lambda c: wt.generate_self_signed(
        ["localhost"], validity_days=0
    ),
    "generate_self_signed: validity_days=15 (browsers refuse > 14)": lambda c: (
        wt.generate_self_signed(["localhost"], validity_days=15)
    ),
    "generate_self_signed: validity_days=-1": lambda c: wt.generate_self_signed(
        ["localhost"], validity_days=-1
    ),
    "generate_self_signed: validity_days=2**64": lambda c: wt.generate_self_signed(
        ["localhost"], validity_days=2**64
    ),
    "generate_self_signed: validity_days=1.5": lambda c: wt.generate_self_signed(
        ["localhost"], validity_days=bad(1.5)
    ),
    # -- certificate_hash ------------------------------------------------------------------
    "certificate_hash: b'' (empty)": lambda c: wt.certificate_hash(b""),
    "certificate_hash: DER garbage": lambda c: wt.certificate_hash(GARBAGE),
    "certificate_hash: PEM armour around garbage": lambda c: wt.certificate_hash(PEM_GARBAGE),
    "certificate_hash: a private key (DER) instead of a certificate": lambda c: wt.certificate_hash(
        c.certs.private_key
    ),
    "certificate_hash: a private key (PEM) instead of a certificate": lambda c: wt.certificate_hash(
        _certs.expired().key_pem
    ),
    "certificate_hash: 16 MiB of garbage": lambda c: wt.certificate_hash(b"\x30" * (16 << 20)),
    "certificate_hash: [] (empty list)": lambda c: wt.certificate_hash(bad([])),
    "certificate_hash: None": lambda c: wt.certificate_hash(bad(None)),
    "certificate_hash: 42": lambda c: wt.certificate_hash(bad(42)),
    "certificate_hash: a path that does not exist": lambda c: wt.certificate_hash(
        "/nonexistent/cert.pem"
    ),
    "certificate_hash: a directory path": lambda c: wt.certificate_hash(c.tmp),
    "certificate_hash: '\\ud800' (str that is not UTF-8)": lambda c: wt.certificate_hash("\ud800"),
    # -- TransportConfig -------------------------------------------------------------------
    "TransportConfig: max_concurrent_bidi_streams=-1": lambda c: wt.TransportConfig(
        max_concurrent_bidi_streams=-1
    ),
    "TransportConfig: max_concurrent_uni_streams=2**32": lambda c: wt.TransportConfig(
        max_concurrent_uni_streams=U32
    ),
    "TransportConfig: max_concurrent_bidi_streams=2**63": lambda c: wt.TransportConfig(
        max_concurrent_bidi_streams=2**63
    ),
    "TransportConfig: max_concurrent_bidi_streams='1'": lambda c: wt.TransportConfig(
        max_concurrent_bidi_streams=bad("1")
    ),
    "TransportConfig: stream_receive_window=1023 (below 1 KiB)": lambda c: wt.TransportConfig(
        stream_receive_window=1023
    ),
    "TransportConfig: stream_receive_window=2**32": lambda c: wt.TransportConfig(
        stream_receive_window=U32
    ),
    "TransportConfig: receive_window=2**62": lambda c: wt.TransportConfig(receive_window=2**62),
    "TransportConfig: send_window=0": lambda c: wt.TransportConfig(send_window=0),
    "TransportConfig: datagram_receive_buffer_size=-1": lambda c: wt.TransportConfig(
        datagram_receive_buffer_size=-1
    ),
    "TransportConfig: datagram_send_buffer_size=2**62": lambda c: wt.TransportConfig(
        datagram_send_buffer_size=2**62
    ),
    "TransportConfig: initial_rtt=0": lambda c: wt.TransportConfig(initial_rtt=0),
    "TransportConfig: initial_rtt=nan": lambda c: wt.TransportConfig(initial_rtt=float("nan")),
    "TransportConfig: initial_rtt=inf": lambda c: wt.TransportConfig(initial_rtt=float("inf")),
    "TransportConfig: initial_rtt=61": lambda c: wt.TransportConfig(initial_rtt=61),
    "TransportConfig: initial_rtt='0.1'": lambda c: wt.TransportConfig(initial_rtt=bad("0.1")),
    "TransportConfig: a positional argument": lambda c: bad(wt.TransportConfig)(1),
    # -- Server ------------------------------------------------------------------------------
    "Server: no arguments": lambda c: bad(wt.Server)(),
    "Server: certificate_chain=b'' (empty)": srv(certificate_chain=b""),
    "Server: certificate_chain=DER garbage": srv(certificate_chain=GARBAGE),
    "Server: certificate_chain=PEM armour around garbage": srv(certificate_chain=PEM_GARBAGE),
    "Server: certificate_chain=[] (empty list)": srv(certificate_chain=[]),
    "Server: certificate_chain=42": srv(certificate_chain=42),
    "Server: certificate_chain=a path that does not exist": srv(
        certificate_chain="/nonexistent/cert.pem"
    ),
    "Server: private_key=DER garbage": srv(private_key=GARBAGE),
    "Server: private_key=PEM armour around garbage": srv(private_key=KEY_PEM_GARBAGE),
    "Server: private_key=b'' (empty)": srv(private_key=b""),
    "Server: private_key=the certificate": lambda c: c.server(private_key=c.certs.certificate),
    "Server: private_key of another certificate (mismatch)": lambda c: c.server(
        private_key=_certs.other_key()
    ),
    "Server: private_key of another certificate, both PEM": lambda c: c.server(
        certificate_chain=_certs.expired().cert_pem, private_key=_certs.too_long().key_pem
    ),
    "Server: bind='nonsense'": srv(bind="nonsense"),
    "Server: bind='127.0.0.1' (no port)": srv(bind="127.0.0.1"),
    "Server: bind='127.0.0.1:65536'": srv(bind="127.0.0.1:65536"),
    "Server: bind=4433 (int)": srv(bind=4433),
    "Server: bind=an address of no local interface (192.0.2.1:0)": srv(bind="192.0.2.1:0"),
    "Server: bind=an address in use": lambda c: c.server(bind=_in_use_port(c)),
    "Server: congestion_control='fast'": srv(congestion_control="fast"),
    "Server: max_idle_timeout=0": srv(max_idle_timeout=0),
    "Server: max_idle_timeout=-1": srv(max_idle_timeout=-1),
    "Server: max_idle_timeout=nan": srv(max_idle_timeout=float("nan")),
    "Server: max_idle_timeout=inf": srv(max_idle_timeout=float("inf")),
    "Server: keep_alive_interval=-1": srv(keep_alive_interval=-1),
    "Server: handshake_timeout=0": srv(handshake_timeout=0),
    "Server: handshake_timeout=nan": srv(handshake_timeout=float("nan")),
    "Server: max_pending_handshakes=0": srv(max_pending_handshakes=0),
    "Server: max_pending_handshakes=2**63": srv(max_pending_handshakes=2**63),
    "Server: transport={} (not a TransportConfig)": srv(transport={}),
    **_code_runs("Server.close", lambda v: lambda c: c.server().close(v), "code"),
    **_reason_runs("Server.close", lambda r: lambda c: c.server().close(0, r)),
    "Server.close: timeout=-1": lambda c: c.server().close(timeout=-1),
    "Server.close: called twice": lambda c: (s := c.server()).close() or s.close(),
    "Server.reload_certificates: DER garbage (the old certificate stays in use)": _reload_garbage,
    "Server.reload_certificates: a key that does not match (the old one stays in use)": (
        _reload_wrong_key
    ),
    "Server.accept: on a closed server": _closed_server_accept,
    "Server.__anext__: on a closed server": _closed_server_anext,
    # -- SessionRequest ---------------------------------------------------------------------
    "SessionRequest.accept: protocol= one the client did not offer": on_request(
        lambda r: r.accept(protocol="nope")
    ),
    "SessionRequest.accept: called twice": _accept_twice,
    "SessionRequest.reject: status_code=200 (2xx)": on_request(lambda r: r.reject(200)),
    "SessionRequest.reject: status_code=99": on_request(lambda r: r.reject(99)),
    "SessionRequest.reject: status_code=600": on_request(lambda r: r.reject(600)),
    "SessionRequest.reject: status_code=-1": on_request(lambda r: r.reject(-1)),
    "SessionRequest.reject: status_code=2**64": on_request(lambda r: r.reject(2**64)),
    "SessionRequest.reject: status_code='404'": on_request(lambda r: r.reject(bad("404"))),
    "SessionRequest.reject: after accept": _reject_after_accept,
    # -- Client ------------------------------------------------------------------------------
    "Client: server_certificate_hashes=[]": cli(server_certificate_hashes=[]),
    "Client: server_certificate_hashes=[31 bytes]": cli(server_certificate_hashes=[b"x" * 31]),
    "Client: server_certificate_hashes=[33 bytes]": cli(server_certificate_hashes=[b"x" * 33]),
    "Client: server_certificate_hashes=32 bytes (not a list)": cli(
        server_certificate_hashes=b"x" * 32
    ),
    "Client: server_certificate_hashes=[hex str]": cli(server_certificate_hashes=["ab" * 16]),
    "Client: server_certificate_hashes and no_cert_verification=True": cli(
        no_cert_verification=True
    ),
    "Client: ca_certificates=DER garbage": cli(
        server_certificate_hashes=None, ca_certificates=GARBAGE
    ),
    "Client: ca_certificates and server_certificate_hashes": lambda c: c.new_client(
        ca_certificates=[c.certs.certificate]
    ),
    "Client: no_cert_verification='yes'": cli(
        server_certificate_hashes=None, no_cert_verification="yes"
    ),
    "Client: congestion_control='fast'": cli(congestion_control="fast"),
    "Client: max_idle_timeout=-1": cli(max_idle_timeout=-1),
    "Client: bind='nonsense'": cli(bind="nonsense"),
    "Client: bind=an address in use": lambda c: c.new_client(bind=_in_use_port(c)),
    "Client: transport='x'": cli(transport="x"),
    **_code_runs("Client.close", lambda v: lambda c: c.new_client().close(v), "code"),
    "Client.close: reason='\\ud800' (lone surrogate, not UTF-8)": lambda c: c.new_client().close(
        0, "\ud800"
    ),
    "Client.close: reason of 2,000 bytes (QUIC CONNECTION_CLOSE has no 1,024 limit)": lambda c: (
        c.new_client().close(0, "x" * 2000)
    ),
    # -- Client.connect ----------------------------------------------------------------------
    "Client.connect: url='' (empty)": connect(""),
    "Client.connect: url='not a url'": connect("not a url"),
    "Client.connect: url='http://…' (not https)": connect("http://127.0.0.1:4433/"),
    "Client.connect: url='wss://…' (not https)": connect("wss://127.0.0.1:4433/"),
    "Client.connect: url='https://' (no host)": connect("https://"),
    "Client.connect: url with a lone surrogate": connect("https://127.0.0.1/\ud800"),
    "Client.connect: url=123": connect(bad(123)),
    "Client.connect: url with a 1 MiB path": connect(lambda c: c.echo.url + "/" + "a" * (1 << 20)),
    "Client.connect: protocols=[''] (empty)": connect(lambda c: c.echo.url, protocols=[""]),
    "Client.connect: protocols=['é'] (not ASCII)": connect(lambda c: c.echo.url, protocols=["é"]),
    "Client.connect: protocols=['a\\nb'] (control character)": connect(
        lambda c: c.echo.url, protocols=["a\nb"]
    ),
    "Client.connect: protocols='abc' (str, not a list)": connect(
        lambda c: c.echo.url, protocols="abc"
    ),
    "Client.connect: headers={'bad name': 'v'}": connect(
        lambda c: c.echo.url, headers={"bad name": "v"}
    ),
    "Client.connect: headers={'x': 'a\\nb'}": connect(lambda c: c.echo.url, headers={"x": "a\nb"}),
    "Client.connect: headers=1": connect(lambda c: c.echo.url, headers=1),
    "Client.connect: headers={'x': 1}": connect(lambda c: c.echo.url, headers={"x": 1}),
    "Client.connect: headers with a 64 KiB value": connect(
        lambda c: c.echo.url, headers={"x-big": "v" * (64 << 10)}
    ),
    "Client.connect: server_certificate_hashes do not match": _connect_wrong_hash,
    "Client.connect: default verification (system roots), self-signed server": (
        _connect_default_verification
    ),
    "Client.connect: ca_certificates that did not sign the server's certificate": _connect_other_ca,
    "Client.connect: pinned hash of a certificate valid for 30 days": lambda c: _connect_pinned(
        c, _certs.too_long()
    ),
    "Client.connect: pinned hash of an expired certificate": lambda c: _connect_pinned(
        c, _certs.expired()
    ),
    "Client.connect: pinned hash of a not-yet-valid certificate": lambda c: _connect_pinned(
        c, _certs.not_yet_valid()
    ),
    "Client.connect: nothing listening (max_idle_timeout=1)": _connect_nothing_listening,
    "Client.connect: the server rejects with 403": _connect_rejected,
    "Client.connect: on a closed client": _connect_closed_client,
    # -- Session ----------------------------------------------------------------------------
    **_code_runs("Session.close", lambda v: on_session(lambda s: s.close(v)), "code"),
    **_code_runs(
        "Session.close",
        lambda v: on_session(lambda s: s.close(code=v, reason="x")),
        "code",
        " as keyword, with a reason",
    ),
    **_reason_runs("Session.close", lambda r: on_session(lambda s: s.close(0, r))),
    "Session.send_datagram: data='text' (str)": on_session(lambda s: s.send_datagram(bad("text"))),
    "Session.send_datagram: data=123": on_session(lambda s: s.send_datagram(bad(123))),
    "Session.send_datagram: max_datagram_size + 1 bytes": _huge_datagram,
    "Session.send_datagram: 16 MiB": on_session(lambda s: s.send_datagram(b"x" * (16 << 20))),
    "Session.send_datagram: b'' (empty)": on_session(lambda s: s.send_datagram(b"")),
    "Session.send_datagram: to a peer that does not accept datagrams": _datagram_to_peer_without,
    "Session.send_datagram: with datagrams disabled on this side": _datagram_disabled_locally,
    "Session.send_datagram_wait: max_datagram_size + 1 bytes": _huge_datagram_wait,
    "Session.send_datagram_wait: data=None": on_session(lambda s: s.send_datagram_wait(bad(None))),
    "Session.open_bi: on a closed session": on_closed_session(lambda s: s.open_bi()),
    "Session.open_uni: on a closed session": on_closed_session(lambda s: s.open_uni()),
    "Session.accept_bi: on a closed session": on_closed_session(lambda s: s.accept_bi()),
    "Session.accept_uni: on a closed session": on_closed_session(lambda s: s.accept_uni()),
    "Session.send_datagram: on a closed session": on_closed_session(
        lambda s: s.send_datagram(b"x")
    ),
    "Session.send_datagram_wait: on a closed session": on_closed_session(
        lambda s: s.send_datagram_wait(b"x")
    ),
    "Session.receive_datagram: on a closed session": on_closed_session(
        lambda s: s.receive_datagram()
    ),
    "Session.datagrams: iterating a closed session": _datagrams_iter_closed,
    "Session.close: called twice": on_closed_session(lambda s: s.close(1, "again")),
    # -- SendStream -------------------------------------------------------------------------
    "SendStream.write: data='text' (str)": on_send(lambda s: s.write(bad("text"))),
    "SendStream.write: data=None": on_send(lambda s: s.write(bad(None))),
    "SendStream.write: b'' (empty)": on_send(lambda s: s.write(b"")),
    "SendStream.write: after finish()": on_send(lambda s: s.finish(), lambda s: s.write(b"x")),
    "SendStream.write: after reset()": on_send(lambda s: s.reset(1), lambda s: s.write(b"x")),
    "SendStream.write: after the peer's STOP_SENDING(5)": _write_after_peer_stop,
    "SendStream.write_some: data=1.5": on_send(lambda s: s.write_some(bad(1.5))),
    "SendStream.finish: called twice": on_send(lambda s: s.finish(), lambda s: s.finish()),
    "SendStream.reset: after finish()": on_send(lambda s: s.finish(), lambda s: s.reset(0)),
    "SendStream.reset: called twice": on_send(lambda s: s.reset(0), lambda s: s.reset(0)),
    **_code_runs("SendStream.reset", lambda v: on_send(lambda s: s.reset(v)), "error_code"),
    **_code_runs(
        "SendStream.reset",
        lambda v: on_send(lambda s: s.reset(error_code=v)),
        "error_code",
        " as keyword",
    ),
    "SendStream.priority: = 'high'": on_send(lambda s: setattr(s, "priority", "high")),
    # -- RecvStream -------------------------------------------------------------------------
    "RecvStream.read: n=-2": on_recv(lambda r: r.read(-2)),
    "RecvStream.read: n='1'": on_recv(lambda r: r.read(bad("1"))),
    "RecvStream.read: n=2**64": on_recv(lambda r: r.read(2**64)),
    "RecvStream.read: limit=-1": on_recv(lambda r: r.read(-1, limit=-1)),
    "RecvStream.read: limit=10, 100 bytes arrive": on_recv(
        lambda r: r.read(-1, limit=10), data=b"x" * 100
    ),
    "RecvStream.read: after stop()": on_recv(lambda r: r.stop(0), lambda r: r.read()),
    "RecvStream.read: after the peer's RESET_STREAM(7)": _read_after_peer_reset,
    "RecvStream.readexactly: n=-1": on_recv(lambda r: r.readexactly(-1)),
    "RecvStream.readexactly: n=100, the stream ends after 10 bytes": on_recv(
        lambda r: r.readexactly(100), data=b"0123456789"
    ),
    "RecvStream.readinto: buffer=b'bytes' (read-only)": on_recv(
        lambda r: r.readinto(bad(b"bytes"))
    ),
    "RecvStream.readinto: buffer=123": on_recv(lambda r: r.readinto(bad(123))),
    "RecvStream.readinto: a non-contiguous memoryview": _non_contiguous,
    "RecvStream.stop: called twice": on_recv(lambda r: r.stop(0), lambda r: r.stop(0)),
    **_code_runs("RecvStream.stop", lambda v: on_recv(lambda r: r.stop(v)), "error_code"),
}
