"""Construction without a network peer: TransportConfig defaults, validation, repr and
immutability; Server and Client keyword validation (ValueError/TypeError naming the
argument), bind failures as OSError, local_addr, repr, the package version, and that
every async method needs a running event loop."""

from __future__ import annotations

import asyncio
import importlib.metadata
import math
import socket
from typing import Any

import pytest
import web_transport as wt

pytestmark = pytest.mark.timeout(60)

DEFAULTS = {
    "max_concurrent_bidi_streams": 100,
    "max_concurrent_uni_streams": 100,
    "stream_receive_window": 1_250_000,
    "receive_window": 15_000_000,
    "send_window": 15_000_000,
    "datagram_receive_buffer_size": 1_048_576,
    "datagram_send_buffer_size": 1_048_576,
    "initial_rtt": 0.333,
}


def mentions(exc: BaseException, name: str) -> bool:
    """Whether the exception names ``name`` in its message or its notes (PyO3 names the
    argument of a failed conversion in a note: "while processing 'name'")."""
    return name in str(exc) or any(name in note for note in getattr(exc, "__notes__", []))


def raises_naming(error: type[Exception], name: str, call: Any) -> None:
    with pytest.raises(error) as info:
        call()
    assert mentions(info.value, name), f"{info.value!r} does not name {name!r}"


# -- TransportConfig ----------------------------------------------------------------------


def test_transport_config_defaults() -> None:
    cfg = wt.TransportConfig()
    for name, value in DEFAULTS.items():
        assert getattr(cfg, name) == value, name


def test_transport_config_values_and_repr_round_trip() -> None:
    cfg = wt.TransportConfig(
        max_concurrent_bidi_streams=0,
        max_concurrent_uni_streams=2**32 - 1,
        stream_receive_window=1024,
        receive_window=2**40,
        send_window=4096,
        datagram_receive_buffer_size=None,
        datagram_send_buffer_size=0,
        initial_rtt=0.05,
    )
    assert cfg.max_concurrent_bidi_streams == 0
    assert cfg.max_concurrent_uni_streams == 2**32 - 1
    assert cfg.datagram_receive_buffer_size is None
    text = repr(cfg)
    assert text.startswith("TransportConfig(")
    for name in DEFAULTS:
        assert f"{name}=" in text
    again = eval(text, {"TransportConfig": wt.TransportConfig})
    for name in DEFAULTS:
        assert getattr(again, name) == getattr(cfg, name), name


def test_transport_config_is_immutable() -> None:
    cfg = wt.TransportConfig()
    with pytest.raises(AttributeError):
        cfg.send_window = 1  # type: ignore


def test_transport_config_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        wt.TransportConfig(100)  # type: ignore


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("max_concurrent_bidi_streams", -1),
        ("max_concurrent_bidi_streams", 2**32),
        ("max_concurrent_uni_streams", -1),
        ("max_concurrent_uni_streams", 2**32),
        ("stream_receive_window", 0),
        ("stream_receive_window", 1023),
        ("stream_receive_window", 2**32),
        ("receive_window", 1023),
        ("receive_window", 2**62),
        ("send_window", -1),
        ("send_window", 2**62),
        ("datagram_receive_buffer_size", -1),
        ("datagram_send_buffer_size", -1),
        ("initial_rtt", 0.0),
        ("initial_rtt", -0.1),
        ("initial_rtt", 61.0),
        ("initial_rtt", math.inf),
        ("initial_rtt", math.nan),
    ],
)
def test_transport_config_rejects_out_of_range(name: str, value: object) -> None:
    kwargs: dict[str, Any] = {name: value}
    raises_naming(ValueError, name, lambda: wt.TransportConfig(**kwargs))


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_transport_config_rejects_wrong_types(name: str) -> None:
    with pytest.raises((TypeError, OverflowError)) as info:
        wt.TransportConfig(**{name: "10"})  # type: ignore
    assert mentions(info.value, name)


def test_transport_config_is_used_by_server_and_client(self_signed_cert: Any) -> None:
    cfg = wt.TransportConfig(max_concurrent_bidi_streams=5, initial_rtt=0.1)
    server = wt.Server(
        certificate_chain=self_signed_cert.certificate,
        private_key=self_signed_cert.private_key,
        bind="127.0.0.1:0",
        transport=cfg,
    )
    client = wt.Client(server_certificate_hashes=[self_signed_cert.hash], transport=cfg)
    assert isinstance(server, wt.Server)
    assert isinstance(client, wt.Client)
    with pytest.raises(TypeError) as info:
        wt.Client(transport={"send_window": 1})  # type: ignore
    assert mentions(info.value, "transport")


# -- Server -------------------------------------------------------------------------------


def make_server(cert: Any, **kwargs: Any) -> wt.Server:
    kwargs.setdefault("certificate_chain", cert.certificate)
    kwargs.setdefault("private_key", cert.private_key)
    kwargs.setdefault("bind", "127.0.0.1:0")
    return wt.Server(**kwargs)


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("congestion_control", "fast", ValueError),
        ("congestion_control", "", ValueError),
        ("congestion_control", 1, TypeError),
        ("max_idle_timeout", 0, ValueError),
        ("max_idle_timeout", -1, ValueError),
        ("max_idle_timeout", math.nan, ValueError),
        ("max_idle_timeout", math.inf, ValueError),
        ("max_idle_timeout", "30", TypeError),
        ("keep_alive_interval", 0, ValueError),
        ("keep_alive_interval", -5.0, ValueError),
        ("handshake_timeout", 0, ValueError),
        ("handshake_timeout", -1, ValueError),
        ("handshake_timeout", math.nan, ValueError),
        ("max_pending_handshakes", 0, ValueError),
        ("max_pending_handshakes", -1, ValueError),
        ("max_pending_handshakes", 10**7, ValueError),
        ("max_pending_handshakes", 1.5, TypeError),
        ("bind", "nowhere", ValueError),
        ("bind", "127.0.0.1", ValueError),
        ("bind", "127.0.0.1:99999", ValueError),
        ("bind", 4433, TypeError),
        ("transport", "default", TypeError),
    ],
)
def test_server_argument_validation(
    self_signed_cert: Any, name: str, value: object, error: type[Exception]
) -> None:
    raises_naming(error, name, lambda: make_server(self_signed_cert, **{name: value}))


def test_server_requires_certificate_and_key(self_signed_cert: Any) -> None:
    with pytest.raises(TypeError):
        wt.Server(private_key=self_signed_cert.private_key)  # type: ignore
    with pytest.raises(TypeError):
        wt.Server(certificate_chain=self_signed_cert.certificate)  # type: ignore
    with pytest.raises(TypeError):
        wt.Server(self_signed_cert.certificate, self_signed_cert.private_key)  # type: ignore


@pytest.mark.parametrize("cc", ["default", "throughput", "low_latency"])
def test_server_congestion_controls(self_signed_cert: Any, cc: str) -> None:
    server = make_server(
        self_signed_cert, congestion_control=cc, max_idle_timeout=None, keep_alive_interval=1.0
    )
    host, port = server.local_addr
    assert host == "127.0.0.1"
    assert 0 < port < 65536


def test_server_bind_in_use_is_oserror(self_signed_cert: Any) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with pytest.raises(OSError, match="bind") as info:
            make_server(self_signed_cert, bind=f"127.0.0.1:{port}")
        assert not isinstance(info.value, wt.WebTransportError)


def test_server_local_addr_and_repr(self_signed_cert: Any) -> None:
    server = make_server(self_signed_cert)
    host, port = server.local_addr
    assert (host, port) == ("127.0.0.1", port)
    assert f"127.0.0.1:{port}" in repr(server)
    v6 = make_server(self_signed_cert, bind="[::1]:0")
    assert v6.local_addr[0] == "::1"


async def test_server_reload_validates_arguments(self_signed_cert: Any) -> None:
    server = make_server(self_signed_cert)
    raises_naming(
        TypeError,
        "certificate_chain",
        lambda: server.reload_certificates(123, self_signed_cert.private_key),  # type: ignore
    )
    raises_naming(
        ValueError,
        "private_key",
        lambda: server.reload_certificates(self_signed_cert.certificate, b"junk"),
    )
    server.reload_certificates(self_signed_cert.certificate, self_signed_cert.private_key)
    server.close()
    await asyncio.wait_for(server.wait_closed(), 15)


# -- Client -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"server_certificate_hashes": b"\0" * 32}, TypeError, "server_certificate_hashes"),
        ({"server_certificate_hashes": ["\0" * 32]}, TypeError, "server_certificate_hashes"),
        ({"server_certificate_hashes": [b"\0" * 31]}, ValueError, "server_certificate_hashes"),
        ({"server_certificate_hashes": [b"\0" * 33]}, ValueError, "server_certificate_hashes"),
        ({"server_certificate_hashes": []}, ValueError, "server_certificate_hashes"),
        ({"ca_certificates": b"not a certificate"}, ValueError, "ca_certificates"),
        ({"ca_certificates": 5}, TypeError, "ca_certificates"),
        ({"congestion_control": "bbr"}, ValueError, "congestion_control"),
        ({"max_idle_timeout": -1}, ValueError, "max_idle_timeout"),
        ({"max_idle_timeout": 0}, ValueError, "max_idle_timeout"),
        ({"keep_alive_interval": 0}, ValueError, "keep_alive_interval"),
        ({"bind": "nowhere"}, ValueError, "bind"),
        ({"bind": 0}, TypeError, "bind"),
        ({"no_cert_verification": "yes"}, TypeError, "no_cert_verification"),
    ],
)
def test_client_argument_validation(
    kwargs: dict[str, Any], error: type[Exception], name: str
) -> None:
    raises_naming(error, name, lambda: wt.Client(**kwargs))


def test_client_verification_modes_are_exclusive(self_signed_cert: Any) -> None:
    h = [self_signed_cert.hash]
    for kwargs in (
        {"server_certificate_hashes": h, "no_cert_verification": True},
        {"server_certificate_hashes": h, "ca_certificates": self_signed_cert.certificate},
        {"no_cert_verification": True, "ca_certificates": self_signed_cert.certificate},
    ):
        with pytest.raises(ValueError, match="choose one") as info:
            wt.Client(**kwargs)  # type: ignore
        for name in kwargs:
            assert name in str(info.value)


def test_client_constructs(self_signed_cert: Any) -> None:
    assert isinstance(wt.Client(), wt.Client)  # system roots
    assert isinstance(wt.Client(bind="127.0.0.1:0"), wt.Client)
    assert isinstance(wt.Client(server_certificate_hashes=[self_signed_cert.hash]), wt.Client)
    assert isinstance(wt.Client(ca_certificates=[self_signed_cert.certificate]), wt.Client)
    for cc in ("default", "throughput", "low_latency"):
        assert isinstance(wt.Client(congestion_control=cc, max_idle_timeout=None), wt.Client)
    with pytest.raises(TypeError):
        wt.Client([self_signed_cert.hash])  # type: ignore


def test_client_bind_in_use_is_oserror() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with pytest.raises(OSError, match="bind") as info:
            wt.Client(bind=f"127.0.0.1:{port}")
        assert not isinstance(info.value, wt.WebTransportError)


async def test_client_and_server_close_are_idempotent(self_signed_cert: Any) -> None:
    server = make_server(self_signed_cert)
    client = wt.Client(server_certificate_hashes=[self_signed_cert.hash])
    for _ in range(2):
        server.close()
        client.close(1, "again")
    await asyncio.wait_for(server.wait_closed(), 15)
    await asyncio.wait_for(client.wait_closed(), 15)
    assert await asyncio.wait_for(server.accept(), 15) is None


async def test_async_context_managers_return_self(self_signed_cert: Any) -> None:
    server = make_server(self_signed_cert)
    async with server as s:
        assert s is server
    assert await asyncio.wait_for(server.accept(), 15) is None
    client = wt.Client(server_certificate_hashes=[self_signed_cert.hash])
    async with client as c:
        assert c is client


# -- Module-level -------------------------------------------------------------------------


def test_version_matches_distribution() -> None:
    assert wt.__version__ == importlib.metadata.version("web-transport-python")
    assert isinstance(wt.__version__, str)


def test_async_methods_need_a_running_loop(self_signed_cert: Any) -> None:
    server = make_server(self_signed_cert)
    client = wt.Client(server_certificate_hashes=[self_signed_cert.hash])
    for call in (server.accept, server.wait_closed, client.wait_closed):
        with pytest.raises(RuntimeError):
            call()
    with pytest.raises(RuntimeError):
        client.connect(f"https://127.0.0.1:{server.local_addr[1]}/")
    server.close()
    client.close()
