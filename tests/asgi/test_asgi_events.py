"""Every event of the dialect (docs/asgi.md), driven by this package's Client: the scope,
aioquic's events, and each event of the superset."""

from __future__ import annotations

import asyncio

import pytest
import web_transport as wt
from web_transport import asgi

from tests.asgi.conftest import (
    WAIT,
    Accepted,
    ServeApp,
    eventually,
    puppet_session,
)


async def test_scope(serve_app: ServeApp) -> None:
    async with puppet_session(
        serve_app,
        "/chat%20room/x?name=a%20b&n=1",
        connect={"protocols": ["v2", "v1"], "headers": {"x-token": "t1"}},
    ) as (puppet, session, served):
        scope = puppet.scope
        assert scope["type"] == "webtransport"
        assert scope["asgi"] == {"version": "3.0", "spec_version": asgi.SPEC_VERSION}
        assert (scope["http_version"], scope["scheme"], scope["method"]) == (
            "3",
            "https",
            "CONNECT",
        )
        assert scope["path"] == "/chat room/x"
        assert scope["raw_path"] == b"/chat%20room/x"
        assert scope["query_string"] == b"name=a%20b&n=1"
        assert scope["root_path"] == ""
        headers = dict(scope["headers"])
        assert headers[b"x-token"] == b"t1"
        assert headers[b"host"] == f"127.0.0.1:{served.port}".encode()
        assert all(name == name.lower() for name, _ in scope["headers"])
        host, port = scope["client"]
        assert host == "127.0.0.1"
        assert 0 < port < 65536
        assert port != served.port
        assert scope["server"] == ("127.0.0.1", served.port)
        assert scope["subprotocols"] == ["v2", "v1"]
        assert callable(scope["extensions"]["web_transport"]["stats"])
        session.close()


async def test_aioquic_events_stream_and_datagram(serve_app: ServeApp) -> None:
    """aioquic's four events: stream.receive/send {stream, data}, datagram.receive/send."""
    async with puppet_session(serve_app, "/wt") as (puppet, session, _):
        send, recv = await session.open_bi()
        await send.write(b"ping")
        event = await puppet.next("webtransport.stream.receive")
        assert (event["stream"], event["data"], event["end_stream"]) == (0, b"ping", False)
        await puppet.send({"type": "webtransport.stream.send", "stream": 0, "data": b"pong"})
        assert await recv.readexactly(4) == b"pong"
        session.send_datagram(b"dg")
        event = await puppet.next("webtransport.datagram.receive")
        assert event["data"] == b"dg"
        await puppet.send({"type": "webtransport.datagram.send", "data": b"gd"})
        async with asyncio.timeout(WAIT):
            assert await session.receive_datagram() == b"gd"


async def test_end_stream_both_ways(accepted: Accepted) -> None:
    puppet, session = accepted.puppet, accepted.session
    send, recv = await session.open_bi()
    await send.write(b"abc")
    await send.finish()
    data = b""
    while True:
        event = await puppet.next("webtransport.stream.receive")
        data += event["data"]
        if event["end_stream"]:
            break
    assert data == b"abc"
    await puppet.send(
        {"type": "webtransport.stream.send", "stream": 0, "data": b"xyz", "end_stream": True}
    )
    assert await recv.read() == b"xyz"  # read to the end: the FIN arrived


@pytest.mark.parametrize("unidirectional", [False, True])
async def test_stream_open(accepted: Accepted, unidirectional: bool) -> None:
    puppet, session = accepted.puppet, accepted.session
    await puppet.send({"type": "webtransport.stream.open", "unidirectional": unidirectional})
    opened = await puppet.next("webtransport.stream.opened")
    assert opened == {
        "type": "webtransport.stream.opened",
        "stream": 3 if unidirectional else 1,
        "unidirectional": unidirectional,
    }
    sid = opened["stream"]
    await puppet.send(
        {"type": "webtransport.stream.send", "stream": sid, "data": b"hi", "end_stream": True}
    )
    if unidirectional:
        recv = await session.accept_uni()
        assert await recv.read() == b"hi"
        return
    send, recv = await session.accept_bi()
    assert await recv.read() == b"hi"
    await send.write(b"back")
    await send.finish()
    event = await puppet.next("webtransport.stream.receive")
    assert (event["stream"], event["data"]) == (sid, b"back")


async def test_stream_reset_by_app(accepted: Accepted) -> None:
    puppet, session = accepted.puppet, accepted.session
    send, recv = await session.open_bi()
    await send.write(b"x")
    await puppet.next("webtransport.stream.receive")
    await puppet.send({"type": "webtransport.stream.reset", "stream": 0, "code": 7})
    with pytest.raises(wt.StreamClosedByPeer) as err:
        await recv.read()
    assert (err.value.kind, err.value.code) == ("reset", 7)


async def test_stream_reset_by_peer(accepted: Accepted) -> None:
    puppet, session = accepted.puppet, accepted.session
    send, _ = await session.open_bi()
    await send.write(b"x")
    await puppet.next("webtransport.stream.receive")
    send.reset(9)
    event = await puppet.next("webtransport.stream.reset")
    assert event == {"type": "webtransport.stream.reset", "stream": 0, "code": 9}


@pytest.mark.parametrize(
    "kind", ["webtransport.stream.stop_sending", "webtransport.stream.stop_receiving"]
)
async def test_stop_sending_by_app(accepted: Accepted, kind: str) -> None:
    """STOP_SENDING from the application (``stop_receiving`` is channels-webtransport's
    name for it)."""
    puppet, session = accepted.puppet, accepted.session
    send, _ = await session.open_bi()
    await send.write(b"x")
    await puppet.next("webtransport.stream.receive")
    await puppet.send({"type": kind, "stream": 0, "code": 5})
    async with asyncio.timeout(WAIT):
        assert await send.wait_closed() == 5


async def test_stop_sending_by_peer(accepted: Accepted) -> None:
    """The peer's STOP_SENDING reaches the application as an event when it next sends on
    the stream; that send() does not raise (the data is discarded, as after a reset)."""
    puppet, session = accepted.puppet, accepted.session
    send, recv = await session.open_bi()
    await send.write(b"x")
    await puppet.next("webtransport.stream.receive")
    recv.stop(6)
    event = None
    for _ in range(500):  # bounded: until the STOP_SENDING reached the server
        await puppet.send({"type": "webtransport.stream.send", "stream": 0, "data": b"y"})
        if not puppet.events.empty():
            event = await puppet.next()
            break
        await asyncio.sleep(0.01)
    assert event == {"type": "webtransport.stream.stop_sending", "stream": 0, "code": 6}
    # Later sends on the stopped stream are discarded without error.
    await puppet.send(
        {"type": "webtransport.stream.send", "stream": 0, "data": b"z", "end_stream": True}
    )


async def test_accept_with_subprotocol(serve_app: ServeApp) -> None:
    async with puppet_session(
        serve_app,
        subprotocol="b",
        headers=[(b"x-server", b"asgi")],
        connect={"protocols": ["a", "b"]},
    ) as (_, session, _):
        assert session.protocol == "b"


async def test_reject_with_status(serve_app: ServeApp) -> None:
    async def app(scope, receive, send):
        if scope["type"] == "webtransport":
            await receive()
            await send({"type": "webtransport.reject", "status": 404})

    served = await serve_app(app)
    assert await served.rejected() == 404


@pytest.mark.parametrize(("fields", "status"), [({}, 403), ({"status": 401}, 401)])
async def test_close_before_accept(
    serve_app: ServeApp, fields: dict[str, int], status: int
) -> None:
    """aioquic's rule: webtransport.close before webtransport.accept answers 403;
    channels-webtransport's ``status`` field chooses another status."""

    async def app(scope, receive, send):
        if scope["type"] == "webtransport":
            await receive()
            await send({"type": "webtransport.close", **fields})

    served = await serve_app(app)
    assert await served.rejected() == status


async def test_close_with_code_and_reason(accepted: Accepted) -> None:
    puppet, session = accepted.puppet, accepted.session
    await puppet.send({"type": "webtransport.close", "code": 4001, "reason": "bye now"})
    async with asyncio.timeout(WAIT):
        await session.wait_closed()
    reason = session.close_reason
    assert isinstance(reason, wt.SessionClosedByPeer)
    assert (reason.source, reason.code, reason.reason) == ("session", 4001, "bye now")
    # The application's own close ends its receive() with a disconnect too.
    event = await puppet.next("webtransport.disconnect")
    assert (event["code"], event["reason"]) == (4001, "bye now")


async def test_disconnect_by_peer(accepted: Accepted) -> None:
    puppet, session, served = accepted.puppet, accepted.session, accepted.served
    session.close(7, "client done")
    event = await puppet.next("webtransport.disconnect")
    assert event == {"type": "webtransport.disconnect", "code": 7, "reason": "client done"}
    # After the disconnect, receive() and send() raise why the session ended.
    with pytest.raises(wt.SessionClosedByPeer):
        await puppet.receive()
    with pytest.raises(wt.SessionClosedByPeer):
        await puppet.send({"type": "webtransport.datagram.send", "data": b"late"})
    await served.idle()


async def test_stream_send_waits_for_flow_control(serve_app: ServeApp) -> None:
    """stream.send completes only when the stream took the data: 1 MiB through a 64 KiB
    window cannot complete before the peer reads."""
    small = wt.TransportConfig(stream_receive_window=65536, receive_window=131072)
    async with puppet_session(serve_app, client_options={"transport": small}) as (
        puppet,
        session,
        _,
    ):
        await puppet.send({"type": "webtransport.stream.open"})
        sid = (await puppet.next("webtransport.stream.opened"))["stream"]
        payload = bytes(1 << 20)
        sending = asyncio.ensure_future(
            puppet.send(
                {
                    "type": "webtransport.stream.send",
                    "stream": sid,
                    "data": payload,
                    "end_stream": True,
                }
            )
        )
        _, recv = await session.accept_bi()
        await asyncio.sleep(0.3)
        assert not sending.done()  # at most the window can be in flight
        assert len(await recv.read()) == len(payload)
        async with asyncio.timeout(WAIT):
            await sending


async def test_datagrams_dropped_and_counted_when_queue_full(serve_app: ServeApp) -> None:
    """With the application not receiving, at most receive_queue_size events wait; the
    other datagrams are dropped and counted in the stats extension."""
    queue = {"receive_queue_size": 4}
    async with puppet_session(serve_app, pump=False, app_options=queue) as (puppet, session, _):
        stats = puppet.scope["extensions"]["web_transport"]["stats"]
        sent = 40
        for i in range(sent):
            await session.send_datagram_wait(b"d%d" % i)
        await eventually(lambda: stats()["datagrams_received"] == sent)  # loopback: no loss
        assert stats() == {"datagrams_received": sent, "datagrams_dropped": sent - 4}
        got = [await puppet.receive() for _ in range(4)]
        assert [e["data"] for e in got] == [b"d0", b"d1", b"d2", b"d3"]


async def test_full_receive_queue_holds_the_peer_back(serve_app: ServeApp) -> None:
    """While the application does not receive, the server stops reading once
    receive_queue_size events wait: the peer's write cannot complete (flow control); it
    does once the application receives."""
    small = wt.TransportConfig(stream_receive_window=65536, receive_window=131072)
    options = {"receive_queue_size": 2, "read_size": 1024, "server_options": {"transport": small}}
    async with puppet_session(serve_app, pump=False, app_options=options) as (puppet, session, _):
        send, _ = await session.open_bi()
        payload = bytes(range(256)) * 4096  # 1 MiB: 16 of the server's stream windows
        writing = asyncio.ensure_future(send.write(payload))
        await asyncio.sleep(0.3)
        assert not writing.done()  # at most 2 KiB queued + the window in flight
        received = b""
        async with asyncio.timeout(WAIT):
            while len(received) < len(payload):
                event = await puppet.receive()
                assert len(event["data"]) <= 1024
                received += event["data"]
            await writing
        assert received == payload
