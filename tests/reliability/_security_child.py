"""Child process for the SSLKEYLOGFILE test: ``python _security_child.py echo``: a
server and a client in this process exchange data over one session, then print ``OK``."""

from __future__ import annotations

import asyncio
import sys

from _support import Certs, client_for, echo_bytes, echo_server  # ty: ignore[import-not-found]


async def echo() -> None:
    certs = Certs.generate()
    async with echo_server(certs) as es, client_for(certs) as client:
        session = await client.connect(es.url)
        assert await echo_bytes(session, b"secret?") == b"secret?"
        session.close()
        await session.wait_closed()
    print("OK", flush=True)


if __name__ == "__main__":
    assert sys.argv[1:] == ["echo"]
    asyncio.run(echo())
