"""A lossy, reordering UDP relay process: ``python _relay.py UPSTREAM_PORT LOSS REORDER``.

Listens on 127.0.0.1:0, prints ``{"port": N}``, forwards every datagram to and from
127.0.0.1:UPSTREAM_PORT through :class:`_support.UdpRelay` (losing ``LOSS`` and delaying
``REORDER`` of them by 5 ms in each direction), and prints its counters on stdin EOF.
"""

from __future__ import annotations

import asyncio
import json
import sys

from tests.reliability._support import start_relay


async def main() -> None:
    relay = await start_relay(
        ("127.0.0.1", int(sys.argv[1])), loss=float(sys.argv[2]), reorder=float(sys.argv[3])
    )
    print(json.dumps({"port": relay.port}), flush=True)
    await asyncio.to_thread(sys.stdin.read)
    print(json.dumps({"counts": relay.counts}), flush=True)
    relay.close()


if __name__ == "__main__":
    asyncio.run(main())
