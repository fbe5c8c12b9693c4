"""Loss and reordering: transfers stay byte-exact in both directions.

- ``test_netns``: two network namespaces joined by a veth pair (created here, removed in
  ``finally``); server and client run in them via ``ip netns exec``. The ``netem``
  variant puts 5 % loss, 5 ms delay and 25 % reordering on both veth ends (``tc
  netem``); the ``plain`` variant checks the namespace harness itself. Skipped, with
  the reason, when not root, when ``ip``/``tc`` are missing (Debian: iproute2) or when
  the kernel lacks netem (``sch_netem``).
- ``test_lossy_relay``: the same transfer through a user-space UDP relay process that
  drops 5 % and delays 10 % of the datagrams (so later ones overtake them) in each
  direction; runs everywhere.

Sizes: CI 4 MiB each way, full (``WEB_TRANSPORT_FULL=1``) 32 MiB each way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Generator
from typing import Any

import pytest

from ._support import BOUND, FULL, Child, assert_clean_stderr, scale, write_result
from ._transfer import pattern_sha

SIZE = scale(4 << 20, 32 << 20)
pytestmark = pytest.mark.timeout(1800 if FULL else 170)


def run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=check)


def netns_unavailable() -> str | None:
    """Why namespaces cannot be used here, or None."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"`{tool}` not found (Debian/Ubuntu package iproute2)"
    probe = f"wtp-probe-{uuid.uuid4().hex[:6]}"
    p = run("ip", "netns", "add", probe, check=False)
    if p.returncode != 0:
        return f"cannot create a network namespace: {p.stderr.strip()}"
    run("ip", "netns", "del", probe, check=False)
    return None


def netem_unavailable() -> str | None:
    probe = f"wtp-probe-{uuid.uuid4().hex[:6]}"
    run("ip", "netns", "add", probe)
    try:
        run("ip", "netns", "exec", probe, "ip", "link", "set", "lo", "up")
        p = run(
            "ip",
            "netns",
            "exec",
            probe,
            "tc",
            "qdisc",
            "add",
            "dev",
            "lo",
            "root",
            "netem",
            "loss",
            "1%",
            check=False,
        )
        if p.returncode != 0:
            return f"the kernel lacks netem (sch_netem): tc says {p.stderr.strip()!r}"
        return None
    finally:
        run("ip", "netns", "del", probe, check=False)


@contextlib.contextmanager
def namespace_pair(netem: list[str] | None) -> Generator[tuple[str, str, str], None, None]:
    """Namespaces A and B joined by veth (10.77.0.1 <-> 10.77.0.2), optionally with a
    netem qdisc on both ends. Yields ``(ns_a, ns_b, server_ip)``; always cleaned up."""
    tag = uuid.uuid4().hex[:6]
    ns_a, ns_b = f"wtp-a-{tag}", f"wtp-b-{tag}"
    veth_a, veth_b = f"wtpa{tag}", f"wtpb{tag}"
    try:
        run("ip", "netns", "add", ns_a)
        run("ip", "netns", "add", ns_b)
        run("ip", "link", "add", veth_a, "type", "veth", "peer", "name", veth_b)
        run("ip", "link", "set", veth_a, "netns", ns_a)
        run("ip", "link", "set", veth_b, "netns", ns_b)
        for ns, dev, addr in ((ns_a, veth_a, "10.77.0.1/24"), (ns_b, veth_b, "10.77.0.2/24")):
            run("ip", "netns", "exec", ns, "ip", "addr", "add", addr, "dev", dev)
            run("ip", "netns", "exec", ns, "ip", "link", "set", dev, "up")
            run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            if netem:
                run(
                    "ip",
                    "netns",
                    "exec",
                    ns,
                    "tc",
                    "qdisc",
                    "add",
                    "dev",
                    dev,
                    "root",
                    "netem",
                    *netem,
                )
        yield ns_a, ns_b, "10.77.0.2"
    finally:
        for ns in (ns_a, ns_b):  # deleting a namespace deletes its veth end too
            run("ip", "netns", "del", ns, check=False)
        run("ip", "link", "del", veth_a, check=False)


async def transfer(
    server_prefix: list[str], client_prefix: list[str], bind: str, host: str, relay: Any = None
) -> dict[str, Any]:
    """Run a server and a client (each with a command prefix, e.g. ``ip netns exec``),
    transfer ``SIZE`` bytes each way, check both digests; return the client's report."""
    server = Child.start("_transfer.py", ["server", bind], prefix=server_prefix)
    try:
        hello = await server.expect("port")
        port = hello["port"]
        if relay is not None:
            port = await relay(port)
        client = Child.start(
            "_transfer.py",
            ["client", f"https://{host}:{port}/bulk", hello["hash"], str(SIZE)],
            prefix=client_prefix,
        )
        try:
            report = await client.expect("received_sha", BOUND * (40 if FULL else 5))
        finally:
            rc, err = client.close()
            assert_clean_stderr(err)
            assert rc == 0, err[-3000:]
        received = await server.expect("received_sha")
    finally:
        rc, err = server.close()
        assert_clean_stderr(err)
    assert received["received_len"] == SIZE
    assert received["received_sha"] == report["sent_sha"] == pattern_sha(1, SIZE)
    assert report["received_len"] == SIZE
    assert report["received_sha"] == pattern_sha(2, SIZE)
    return report


@pytest.mark.parametrize("variant", ["plain", "netem"])
async def test_netns(variant: str) -> None:
    reason = netns_unavailable()
    if reason is None and variant == "netem":
        reason = netem_unavailable()
    if reason is not None:
        pytest.skip(reason)
    netem = ["loss", "5%", "delay", "5ms", "reorder", "25%", "50%"] if variant == "netem" else None
    with namespace_pair(netem) as (ns_a, ns_b, server_ip):
        report = await transfer(
            ["ip", "netns", "exec", ns_b],
            ["ip", "netns", "exec", ns_a],
            f"{server_ip}:4433",
            server_ip,
        )
    if variant == "netem":
        assert report["packets_lost"] > 0  # the loss was real
        if FULL:
            write_result("loss_netem_full.json", {"size_each_way": SIZE, **report})


async def test_lossy_relay() -> None:
    relays: list[Child] = []

    async def through_relay(port: int) -> int:
        relay = Child.start("_relay.py", [str(port), "0.05", "0.10"])
        relays.append(relay)
        return (await relay.expect("port"))["port"]

    try:
        report = await transfer([], [], "127.0.0.1:0", "127.0.0.1", relay=through_relay)
    finally:
        counts: dict[str, int] = {}
        for relay in relays:
            assert relay.proc.stdin is not None
            relay.proc.stdin.close()
            with contextlib.suppress(Exception):
                counts = (await relay.expect("counts"))["counts"]
            rc, err = relay.close()
            assert_clean_stderr(err)
            assert rc == 0, err[-2000:]
    assert counts["lost"] > 0
    assert counts["reordered"] > 0
    assert report["packets_lost"] > 0
    if FULL:
        write_result(
            "loss_relay_full.json",
            {"size_each_way": SIZE, "relay": counts, "loss": 0.05, "reorder": 0.10, **report},
        )
