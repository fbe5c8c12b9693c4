"""Certificate rotation under load drops nothing (docs/certificates.md).

Four sessions stream echoes and datagrams without pause while the server switches
certificates five times. After every switch, a session pinned to the new hash connects
and a session pinned to the previous one is refused. At the end, every loaded session is
still open, no echo failed or came back wrong, and each session kept echoing after
every switch (progress is counted, not timed).
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import web_transport as wt

from tests.support.echo import echo_all, echo_bytes

NAMES = ["127.0.0.1"]
SESSIONS = 4
ROTATIONS = 5
ECHOES_BETWEEN = 5  # echoes each session completes between two switches
PAYLOAD = bytes(range(256)) * 64  # 16 KiB per echo
WAIT = 15.0

pytestmark = pytest.mark.timeout(120)


class Load:
    """Echo loops on one session: counts echoes, keeps the first failure."""

    def __init__(self, session: wt.Session) -> None:
        self.session = session
        self.echoes = 0
        self.datagrams_sent = 0
        self.failures: list[BaseException] = []
        self.changed = asyncio.Event()  # set after every echo and at the end
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        try:
            while True:
                reply = await asyncio.wait_for(echo_bytes(self.session, PAYLOAD), WAIT)
                if reply != PAYLOAD:
                    raise AssertionError(f"echo of {len(PAYLOAD)} bytes came back wrong")
                self.echoes += 1
                self.changed.set()
                self.session.send_datagram(self.echoes.to_bytes(4, "big"))
                self.datagrams_sent += 1
        except asyncio.CancelledError:
            raise
        except BaseException as e:
            self.failures.append(e)
            self.changed.set()

    async def progress(self, count: int) -> None:
        """Wait until ``count`` more echoes completed (each bounded by WAIT)."""
        target = self.echoes + count
        async with asyncio.timeout(WAIT * count):
            while self.echoes < target and not self.failures:
                self.changed.clear()
                await self.changed.wait()
        assert not self.failures, self.failures
        assert self.echoes >= target


async def test_rotation_under_load_keeps_every_session() -> None:
    certs = [wt.generate_self_signed(NAMES) for _ in range(ROTATIONS + 1)]
    hashes = [wt.certificate_hash(cert) for cert, _ in certs]
    async with wt.Server(
        certificate_chain=[certs[0][0]], private_key=certs[0][1], bind="127.0.0.1:0"
    ) as server:
        url = f"https://127.0.0.1:{server.local_addr[1]}/load"
        accepting = asyncio.ensure_future(echo_all(server))
        async with wt.Client(server_certificate_hashes=[hashes[0]]) as client:
            sessions = [await asyncio.wait_for(client.connect(url), WAIT) for _ in range(SESSIONS)]
            loads = [Load(session) for session in sessions]
            try:
                await asyncio.gather(*(load.progress(ECHOES_BETWEEN) for load in loads))
                for n in range(1, ROTATIONS + 1):
                    cert, key = certs[n]
                    server.reload_certificates([cert], key)

                    async with wt.Client(server_certificate_hashes=[hashes[n]]) as fresh:
                        session = await asyncio.wait_for(fresh.connect(url), WAIT)
                        assert await asyncio.wait_for(echo_bytes(session, b"new"), WAIT) == b"new"
                        session.close()
                    async with wt.Client(server_certificate_hashes=[hashes[n - 1]]) as stale:
                        with pytest.raises(wt.ConnectError):
                            await asyncio.wait_for(stale.connect(url), WAIT)

                    await asyncio.gather(*(load.progress(ECHOES_BETWEEN) for load in loads))

                for load in loads:
                    assert load.session.close_reason is None, load.session.close_reason
                    assert load.echoes >= ECHOES_BETWEEN * (ROTATIONS + 1)
                # Datagrams still flow on a session from before the first switch.
                received = 0
                for _ in range(50):
                    loads[0].session.send_datagram(b"still here")
                    with contextlib.suppress(TimeoutError):
                        while received == 0:
                            reply = await asyncio.wait_for(loads[0].session.receive_datagram(), 1)
                            received += reply == b"still here"
                    if received:
                        break
                assert received, "no datagram came back after the last switch"
            finally:
                for load in loads:
                    load.task.cancel()
                await asyncio.gather(*(load.task for load in loads), return_exceptions=True)
            assert not [f for load in loads for f in load.failures]
            total = sum(load.echoes for load in loads)
            print(f"{ROTATIONS} switches, {total} echoes of {len(PAYLOAD)} bytes, 0 failures")
        accepting.cancel()
        await asyncio.gather(accepting, return_exceptions=True)
