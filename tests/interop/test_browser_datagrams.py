"""Browser (Chromium, Firefox) <-> our Server: datagrams.

Proves, for each browser: datagrams flow both ways (echoed intact, bounded retries since
datagrams are unreliable), and a datagram of exactly the sender's maximum size
(``datagrams.maxDatagramSize`` in the browser, ``Session.max_datagram_size`` on our side)
arrives intact in each direction, while one byte more raises DatagramTooLargeError here.
"""

from __future__ import annotations

import pytest

from tests.interop import server_roles as roles
from tests.interop.browsers import BrowserPage
from tests.interop.server_roles import pattern, running_server, sha256_hex, together, url_of
from tests.support.peers import Cert, Served


def args(server: Served, cert: Cert, **extra: object) -> dict[str, object]:
    return {"url": url_of(server), "hash": list(cert.hash), **extra}


@pytest.mark.interop("datagram-echo")
async def test_datagram_echo(browser: BrowserPage, cert: Cert) -> None:
    want = 5
    async with running_server(cert) as server:
        seen, result = await together(
            roles.datagram_echo(server), browser.run("datagramEcho", args(server, cert, want=want))
        )
    sent = {f"dg-{i}" for i in range(result["sent"])}
    echoed = set(result["echoed"])
    assert len(echoed) >= want
    assert echoed <= sent
    assert echoed <= {d.decode() for d in seen}
    assert result["closed"] == {"closeCode": 0, "reason": "done"}


@pytest.mark.interop("datagram-max-size")
async def test_datagram_max_size(browser: BrowserPage, cert: Cert) -> None:
    async with running_server(cert) as server:
        ours, result = await together(
            roles.datagram_max_size(server), browser.run("datagramMaxSize", args(server, cert))
        )
    theirs = result["maxDatagramSize"]
    assert isinstance(theirs, int)
    assert theirs > 0
    # The browser's max-size datagrams reached us intact...
    assert ours["sizes"]
    assert set(ours["sizes"]) == {theirs}
    assert ours["digests"] == {sha256_hex(pattern(theirs))}
    # ...and ours reached the browser intact.
    received = result["receivedLength"]
    assert received in ours["sent"]
    assert result["receivedSha256"] == sha256_hex(pattern(received))
