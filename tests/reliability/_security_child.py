"""Child process for the SSLKEYLOGFILE test: ``python _security_child.py echo``: a
server and a client in this process exchange data over one session, then print ``OK``."""

from __future__ import annotations

import asyncio
import sys

from tests.reliability._support import echo_bytes, echo_server
from tests.support.peers import Cert


async def echo() -> None:
    certs = Cert.generate()
    async with echo_server(certs) as es, certs.client() as client:
        session = await client.connect(es.url)
        assert await echo_bytes(session, b"secret?") == b"secret?"
        session.close()
        await session.wait_closed()
    print("OK", flush=True)


if __name__ == "__main__":
    assert sys.argv[1:] == ["echo"]
    asyncio.run(echo())
