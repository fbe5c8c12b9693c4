"""Benchmark suite: every workload for every implementation in one run.

Run through ``bench/run`` (see bench/README.md)::

    bench/run            # full mode: medians of 5, results written to bench/results/
    bench/run --quick    # smoke test of the harness (seconds per workload, 1 repetition)
    bench/run --instructions   # instructions per operation under callgrind (instructions.py)

Implementations (each in its own virtual environment under bench/.venvs/):
``ours`` (a release wheel of this repository), ``ours_asgi`` (the same wheel, its
server an ASGI application served by ``web_transport.asgi``; ours' client),
``ours_uvloop`` (the same wheel, server and client on uvloop), ``native``
(bench/native, Rust), ``pypi_wtq`` (PyPI web-transport-quinn 0.1.0), ``pywebtransport`` 0.21.1 and
``aioquic`` 1.7.2. Server and client always run in separate processes on 127.0.0.1.

This script only uses the standard library (plus matplotlib for the chart, optional).
Every subprocess has a timeout and is killed with its process group; a workload that
fails is recorded as ``failed: <reason>`` and the run goes on.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENVS = BENCH / ".venvs"
BUILD = BENCH / ".build"
IMPLS = BENCH / "impls"

PYTHON = "3.12"
MATURIN = "maturin==1.16.0"
PEERS = {
    "pypi_wtq": "web-transport-quinn==0.1.0",
    "pywebtransport": "pywebtransport==0.21.1",
    "aioquic": "aioquic==1.7.2",
}
UVLOOP = "uvloop==0.23.0"
"""Installed beside ours' wheel, for ``ours_uvloop`` (cp312 manylinux wheels on PyPI)."""
ALL_IMPLS = [
    "ours",
    "ours_asgi",
    "ours_uvloop",
    "native",
    "pypi_wtq",
    "pywebtransport",
    "aioquic",
]
#: Implementations that run in ours' virtual environment: (server dir, client dir, extra
#: arguments of both scripts).
OURS_VARIANTS: dict[str, tuple[str, str, list[str]]] = {
    "ours_asgi": ("ours_asgi", "ours", []),
    "ours_uvloop": ("ours", "ours", ["--loop", "uvloop"]),
}
PY_PEERS = ["pypi_wtq", "pywebtransport", "aioquic"]
WORKLOADS = ["W1", "W2", "W3", "W4", "W5", "W6"]
TITLES = {
    "W1": "W1 bulk: 256 MiB on one stream",
    "W2": "W2 request/response, 64 B on a new bidi stream",
    "W3": "W3 datagrams of 1000 B received",
    "W4": "W4 new sessions (connect, echo 1 B, close)",
    "W5": "W5 100 concurrent bidi streams x 1 MiB",
    "W6": "W6 server peak RSS, 1,000 idle sessions",
}
UNITS = {
    "W1": "MiB/s",
    "W2": "round trips/s",
    "W3": "datagrams/s",
    "W4": "sessions/s",
    "W5": "MiB/s",
    "W6": "MiB (lower is better)",
}
LOWER_IS_BETTER = {"W6"}

#: Each workload's parameters: (full run, ``--quick`` smoke test).
PARAMS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "W1": ({"size": 256 << 20}, {"size": 16 << 20}),
    "W2": ({"duration": 3.0, "payload": 64}, {"duration": 0.5, "payload": 64}),
    "W3": ({"duration": 3.0, "payload": 1000}, {"duration": 0.5, "payload": 1000}),
    "W4": ({"duration": 3.0}, {"duration": 0.5}),
    "W5": ({"streams": 100, "size": 1 << 20}, {"streams": 10, "size": 256 << 10}),
    "W6": ({"sessions": 1000, "concurrency": 50}, {"sessions": 50, "concurrency": 25}),
}
FULL = {w: full for w, (full, _) in PARAMS.items()}
QUICK = {w: quick for w, (_, quick) in PARAMS.items()}
CLIENT_TIMEOUT = {"W1": 150.0, "W5": 120.0, "W6": 150.0}

MiB = 1 << 20


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# Processes


class Proc:
    """A subprocess in its own process group, with a line reader thread on stdout."""

    live: list[Proc] = []  # noqa: RUF012

    def __init__(
        self,
        argv: list[str],
        *,
        stdin: bool = False,
        env: dict[str, str] | None = None,
        stderr_path: Path | None = None,
        grace: float = 3.0,
    ) -> None:
        self.grace = grace
        self.stderr_file = open(stderr_path or os.devnull, "w")  # noqa: SIM115
        self.p = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.stderr_file,
            text=True,
            cwd=ROOT,
            start_new_session=True,
            env=env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        Proc.live.append(self)

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, prefix: str, timeout: float) -> str:
        """The first stdout line starting with ``prefix`` (TimeoutError / EOFError)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {prefix!r} line within {timeout:.0f} s")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise EOFError(f"exited (rc={self.p.wait()}) before printing {prefix!r}")
            if line.startswith(prefix):
                return line

    def kill(self) -> None:
        if self.p.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout=self.grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(timeout=5)
        else:
            # The leader exited; make sure nothing it started lingers.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.p.pid, signal.SIGKILL)
        self.stderr_file.close()
        if self in Proc.live:
            Proc.live.remove(self)

    @classmethod
    def kill_all(cls) -> None:
        for p in list(cls.live):
            p.kill()


def run(argv: list[str], timeout: float, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False, **kw
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> dict[str, float]:
    out = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    return out


# ---------------------------------------------------------------------------------------
# Setup


def fresh_logs() -> Path:
    """An empty ``bench/.build/logs`` for this run's server and client logs."""
    logs = BUILD / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    return logs


def tree_hash(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for base in paths:
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for f in files:
            if "__pycache__" in f.parts or f.suffix in (".so", ".pyd"):
                continue
            h.update(str(f.relative_to(ROOT)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def build_native(profile: str) -> Path:
    log(f"[setup] cargo build --profile {profile} -p wt-bench-native")
    r = run(
        ["cargo", "build", "--locked", "--profile", profile, "-p", "wt-bench-native"], timeout=1800
    )
    if r.returncode != 0:
        raise RuntimeError("cargo build failed: " + r.stderr.strip().splitlines()[-1])
    exe = ROOT / "target" / profile / "wt-bench-native"
    if not exe.exists():
        raise RuntimeError(f"{exe} missing after the build")
    return exe


def build_wheel(profile: str) -> Path:
    out = BUILD / f"wheels-{profile}"
    sources = [
        ROOT / "src",
        ROOT / "gate",
        ROOT / "python",
        ROOT / "Cargo.toml",
        ROOT / "Cargo.lock",
        ROOT / "pyproject.toml",
    ]
    digest = tree_hash(sources)
    stamp = out / "sources.sha256"
    wheels = sorted(out.glob("*.whl"))
    if wheels and stamp.exists() and stamp.read_text() == digest:
        log(f"[setup] wheel up to date: {wheels[-1].name}")
        return wheels[-1]
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    log(f"[setup] uvx {MATURIN} build --profile {profile} (this takes minutes)")
    r = run(
        [
            "uvx",
            MATURIN,
            "build",
            "--profile",
            profile,
            "--locked",
            "--out",
            str(out),
            "-i",
            f"python{PYTHON}",
        ],
        timeout=2400,
    )
    wheels = sorted(out.glob("*.whl"))
    if r.returncode != 0 or not wheels:
        tail = (r.stderr or r.stdout).strip().splitlines()[-3:]
        raise RuntimeError("wheel build failed: " + " | ".join(tail))
    stamp.write_text(digest)
    return wheels[-1]


def ensure_venv(name: str, requirement: str | list[str], marker: str) -> Path:
    venv = VENVS / name
    py = venv / "bin" / "python"
    stamp = venv / ".bench-installed"
    if py.exists() and stamp.exists() and stamp.read_text() == marker:
        return py
    reqs = [requirement] if isinstance(requirement, str) else requirement
    log(f"[setup] venv {name}: {' '.join(reqs)}")
    shutil.rmtree(venv, ignore_errors=True)
    r = run(["uv", "venv", "-q", "--python", PYTHON, str(venv)], timeout=300)
    if r.returncode != 0:
        raise RuntimeError("uv venv failed: " + r.stderr.strip()[-300:])
    r = run(["uv", "pip", "install", "-q", "--python", str(py), *reqs], timeout=900)
    if r.returncode != 0:
        raise RuntimeError("uv pip install failed: " + r.stderr.strip()[-300:])
    stamp.write_text(marker)
    return py


def make_cert(py: Path) -> Path:
    """A fresh self-signed ECDSA certificate (10 days), as DER and PEM, made with ours."""
    d = BUILD / "cert"
    d.mkdir(parents=True, exist_ok=True)
    script = """
import base64, sys
from pathlib import Path
import web_transport as wt
cert, key = wt.generate_self_signed(["localhost", "127.0.0.1"], validity_days=10)
d = Path(sys.argv[1])
def pem(label, der):
    b = base64.b64encode(der).decode()
    body = "\\n".join(b[i:i + 64] for i in range(0, len(b), 64))
    return f"-----BEGIN {label}-----\\n{body}\\n-----END {label}-----\\n"
(d / "cert.der").write_bytes(cert)
(d / "key.der").write_bytes(key)
(d / "cert.pem").write_text(pem("CERTIFICATE", cert))
(d / "key.pem").write_text(pem("PRIVATE KEY", key))
"""
    r = run([str(py), "-c", script, str(d)], timeout=60)
    if r.returncode != 0:
        raise RuntimeError("certificate generation failed: " + r.stderr.strip()[-300:])
    return d


def import_time_ms(py: Path, n: int) -> list[float]:
    code = (
        "import time; t = time.perf_counter(); import web_transport; "
        "print((time.perf_counter() - t) * 1000)"
    )
    out = []
    for _ in range(n):
        r = run([str(py), "-c", code], timeout=60)
        if r.returncode == 0:
            out.append(float(r.stdout.strip()))
    return out


# ---------------------------------------------------------------------------------------
# One measurement


@dataclass
class Impl:
    name: str
    server: list[str]
    client: list[str]
    cert_args: dict[str, str]
    client_cert: str


@dataclass
class Outcome:
    impl: str
    workload: str
    rep: int
    ok: bool
    value: float | None = None
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Wrap:
    """How ``measure`` runs both processes: ``prefix(tag, role)`` is put before each
    command line (e.g. valgrind), timeouts are multiplied by ``slow``, a process has
    ``grace`` seconds after SIGTERM (to write its profile) before SIGKILL, and ``env`` is
    added to their environment."""

    prefix: Any = None
    slow: float = 1.0
    grace: float = 3.0
    env: dict[str, str] = field(default_factory=dict)
    #: Wait for the client to exit by itself (its profile then includes its whole
    #: shutdown, the same in every run) instead of stopping it once it has printed.
    wait_exit: bool = False

    def argv(self, tag: str, role: str, argv: list[str]) -> list[str]:
        return [*(self.prefix(tag, role) if self.prefix else []), *argv]


def measure(
    impl: Impl,
    workload: str,
    rep: int,
    params: dict[str, Any],
    logs: Path,
    wrap: Wrap | None = None,
    tag: str | None = None,
) -> Outcome:
    wrap = wrap or Wrap()
    port = free_port()
    tag = tag or f"{impl.name}-{workload}-{rep}"
    server_argv = [
        *impl.server,
        "--port",
        str(port),
        "--workload",
        workload,
        "--cert",
        impl.cert_args["cert"],
        "--key",
        impl.cert_args["key"],
    ]
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONHASHSEED": "0",
        **wrap.env,
    }
    server = client = None
    try:
        server = Proc(
            wrap.argv(tag, "server", server_argv),
            env=env,
            stderr_path=logs / f"{tag}.server.log",
            grace=wrap.grace,
        )
        try:
            server.expect("READY", 60 * wrap.slow)
        except (TimeoutError, EOFError) as e:
            return Outcome(impl.name, workload, rep, False, error=f"server: {e}")
        base = rss_mib(server.p.pid)
        timeout = CLIENT_TIMEOUT.get(workload, 60.0) * wrap.slow
        client_argv = [
            *impl.client,
            "--port",
            str(port),
            "--workload",
            workload,
            "--cert",
            impl.client_cert,
            "--timeout",
            str(timeout),
        ]
        for k, v in params.items():
            client_argv += [f"--{k}", str(v)]
        client = Proc(
            wrap.argv(tag, "client", client_argv),
            stdin=workload == "W6",
            env=env,
            stderr_path=logs / f"{tag}.client.log",
            grace=wrap.grace,
        )
        detail: dict[str, Any] = {}
        if workload == "W6":
            try:
                held = client.expect("HOLDING", timeout + 10)
            except (TimeoutError, EOFError) as e:
                return Outcome(impl.name, workload, rep, False, error=f"client: {e}")
            time.sleep(1.0)  # let the server settle after the last handshake
            mem = rss_mib(server.p.pid)
            detail = {
                "sessions": int(held.split()[1]),
                "server_rss_before_mib": base.get("VmRSS"),
                "server_rss_mib": mem.get("VmRSS"),
                "server_peak_rss_mib": mem.get("VmHWM"),
            }
            assert client.p.stdin is not None
            with contextlib.suppress(OSError):
                client.p.stdin.write("go\n")
                client.p.stdin.close()
        try:
            line = client.expect("{", timeout + 15)
        except (TimeoutError, EOFError) as e:
            err = (logs / f"{tag}.client.log").read_text(errors="replace").strip()
            last = err.splitlines()[-1] if err else ""
            return Outcome(impl.name, workload, rep, False, error=f"client: {e} {last}"[:300])
        result = json.loads(line)
        if not result.get("ok"):
            return Outcome(impl.name, workload, rep, False, error=str(result)[:300])
        detail |= result
        if wrap.wait_exit:
            client.p.wait(timeout=timeout)
        if workload == "W6":
            peak = detail.get("server_peak_rss_mib")
            if peak is None:
                return Outcome(
                    impl.name, workload, rep, False, error="no RSS reading", detail=detail
                )
            return Outcome(impl.name, workload, rep, True, value=peak, detail=detail)
        return Outcome(impl.name, workload, rep, True, value=float(result["value"]), detail=detail)
    except Exception as e:  # the run goes on
        return Outcome(impl.name, workload, rep, False, error=f"{type(e).__name__}: {e}"[:300])
    finally:
        for p in (client, server):
            if p is not None:
                p.kill()


# ---------------------------------------------------------------------------------------
# Summary, floors, output


def summarize(outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        cell = table.setdefault(o.workload, {}).setdefault(
            o.impl, {"values": [], "errors": [], "loss": [], "runs": []}
        )
        if o.ok and o.value is not None:
            cell["values"].append(o.value)
            cell["runs"].append(o.detail)
            if "loss" in o.detail:
                cell["loss"].append(o.detail["loss"])
        else:
            cell["errors"].append(o.error)
    for cells in table.values():
        for cell in cells.values():
            v = cell["values"]
            cell["median"] = statistics.median(v) if v else None
            cell["min"] = min(v) if v else None
            cell["max"] = max(v) if v else None
            cell["loss_median"] = statistics.median(cell["loss"]) if cell["loss"] else None
    return table


def med(table: dict[str, Any], w: str, impl: str) -> float | None:
    return table.get(w, {}).get(impl, {}).get("median")


def floors(table: dict[str, Any], extras: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(name: str, ok: bool | None, detail: str) -> None:
        rows.append(
            {
                "floor": name,
                "status": "n/a" if ok is None else ("met" if ok else "MISSED"),
                "detail": detail,
            }
        )

    def ratio_floor(w: str, k: float) -> None:
        o, n = med(table, w, "ours"), med(table, w, "native")
        if o is None or n is None:
            add(f"{w} >= {k} x native", None, "no result")
        else:
            add(f"{w} >= {k} x native", o >= k * n, f"{o / n:.2f} x native")

    ratio_floor("W1", 0.7)
    ratio_floor("W2", 0.4)
    ratio_floor("W3", 0.5)
    ratio_floor("W4", 0.8)

    o = med(table, "W2", "ours")
    peers = {p: med(table, "W2", p) for p in PY_PEERS}
    best = max((v for v in peers.values() if v is not None), default=None)
    if o is None or best is None:
        add("W2 >= 2 x best Python peer", None, "no result")
    else:
        add("W2 >= 2 x best Python peer", o >= 2 * best, f"{o / best:.2f} x best peer")

    ol = table.get("W3", {}).get("ours", {}).get("loss_median")
    nl = table.get("W3", {}).get("native", {}).get("loss_median")
    if ol is None or nl is None:
        add("W3 loses no more than native", None, "no result")
    else:
        add(
            "W3 loses no more than native",
            ol <= nl + 0.001,
            f"ours {100 * ol:.2f} % vs native {100 * nl:.2f} % (tolerance 0.1 point)",
        )

    for w in WORKLOADS:
        o = med(table, w, "ours")
        got = {p: med(table, w, p) for p in PY_PEERS}
        known = {p: v for p, v in got.items() if v is not None}
        if o is None or not known:
            add(f"{w} better than every Python peer", None, "no result")
            continue
        if w in LOWER_IS_BETTER:
            losers = [p for p, v in known.items() if o > v]
        else:
            losers = [p for p, v in known.items() if o <= v]
        missing = [p for p, v in got.items() if v is None]
        detail = ("behind " + ", ".join(losers)) if losers else "ahead of " + ", ".join(known)
        if missing:
            detail += f" (no result: {', '.join(missing)})"
        add(f"{w} better than every Python peer", not losers, detail)

    # The ASGI layer (issue 19): at most 25 % off ours' W2 rate and 10 % off its W1 rate.
    for w, k in (("W2", 0.75), ("W1", 0.9)):
        a, o = med(table, w, "ours_asgi"), med(table, w, "ours")
        name = f"ASGI {w} >= {k} x ours (direct API)"
        if a is None or o is None:
            add(name, None, "no result")
        else:
            add(name, a >= k * o, f"{a / o:.2f} x ours")

    o, p = med(table, "W1", "ours"), med(table, "W1", "pypi_wtq")
    if o is None or p is None:
        add("W1 >= 10 x PyPI web-transport-quinn", None, "no result")
    else:
        add("W1 >= 10 x PyPI web-transport-quinn", o >= 10 * p, f"{o / p:.1f} x")

    o = med(table, "W6", "ours")
    sessions = extras.get("w6_sessions")
    if o is None:
        add("W6 <= 60 MiB for 1,000 idle sessions", None, "no result")
    elif sessions != 1000:
        add(
            "W6 <= 60 MiB for 1,000 idle sessions",
            None,
            f"{o:.1f} MiB with {sessions} sessions (quick mode; floor needs 1,000)",
        )
    else:
        add("W6 <= 60 MiB for 1,000 idle sessions", o <= 60, f"{o:.1f} MiB peak RSS")

    imp = extras.get("import_ms_median")
    add(
        "import web_transport <= 30 ms",
        None if imp is None else imp <= 30,
        "no result" if imp is None else f"{imp:.1f} ms (median)",
    )
    size = extras.get("wheel_bytes")
    add(
        "abi3 wheel <= 2.5 MB",
        None if size is None else size <= 2_500_000,
        "no result" if size is None else f"{size / 1e6:.2f} MB ({extras.get('wheel_name')})",
    )
    return rows


def fmt(v: float | None) -> str:
    if v is None:
        return "-"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def cell_text(cell: dict[str, Any] | None, reps: int) -> str:
    if not cell:
        return "-"
    if cell["median"] is None:
        err = (cell["errors"] or ["?"])[0] or "?"
        return f"failed: {err[:60]}"
    s = fmt(cell["median"])
    if len(cell["values"]) > 1:
        s += f" ({fmt(cell['min'])}-{fmt(cell['max'])})"
    if cell["errors"]:
        s += f" [{len(cell['errors'])}/{reps} failed]"
    return s


def markdown(
    table: dict[str, Any],
    fl: list[dict[str, Any]],
    impls: list[str],
    extras: dict[str, Any],
    machine: dict[str, Any],
    reps: int,
) -> str:
    peers = [p for p in impls if p not in ("ours", "native", *OURS_VARIANTS)]
    head = ["workload", "unit", *impls]
    if "native" in impls:
        head.append("ours/native")
    head += [f"ours/{p}" for p in peers]
    variants = [v for v in OURS_VARIANTS if v in impls]
    head += [f"{v}/ours" for v in variants]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for w in WORKLOADS:
        if w not in table:
            continue
        row = [TITLES[w], UNITS[w]]
        row += [cell_text(table[w].get(i), reps) for i in impls]
        o = med(table, w, "ours")
        for other in (["native"] if "native" in impls else []) + peers:
            v = med(table, w, other)
            row.append("-" if o is None or v is None or v == 0 else f"{o / v:.2f}")
        for variant in variants:
            v = med(table, w, variant)
            row.append("-" if o is None or v is None or o == 0 else f"{v / o:.2f}")
        lines.append("| " + " | ".join(row) + " |")
        if w == "W6":
            rows = {
                "before": ["W6 server RSS before any session", "MiB"],
                "per": ["W6 server RSS per idle session", "KiB"],
            }
            for i in impls:
                runs = table[w].get(i, {}).get("runs", [])
                before = [
                    r["server_rss_before_mib"]
                    for r in runs
                    if r.get("server_rss_before_mib") is not None
                ]
                held = [r["server_rss_mib"] for r in runs if r.get("server_rss_mib") is not None]
                n = runs[0].get("sessions") if runs else None
                if before and held and n:
                    b, h = statistics.median(before), statistics.median(held)
                    rows["before"].append(fmt(b))
                    rows["per"].append(fmt((h - b) * 1024 / n))
                else:
                    rows["before"].append("-")
                    rows["per"].append("-")
            for r in rows.values():
                r += [""] * (len(head) - len(r))
                lines.append("| " + " | ".join(r) + " |")
        if w == "W3":
            loss = ["W3 datagrams lost (median)", "%"]
            for i in impls:
                lm = table[w].get(i, {}).get("loss_median")
                loss.append("-" if lm is None else f"{100 * lm:.2f} %")
            loss += [""] * (len(head) - len(loss))
            lines.append("| " + " | ".join(loss) + " |")
    out = [
        "## Results",
        "",
        f"Median of {reps} (min-max); ratios are of medians "
        "(for W6, lower is better, so a ratio below 1 is good).",
        "",
        *(
            [
                "Quick mode: the titles name the full-mode sizes; this run used "
                + "; ".join(
                    f"{w} " + ", ".join(f"{k}={v}" for k, v in QUICK[w].items()) for w in QUICK
                )
                + ".",
                "",
            ]
            if extras.get("mode") == "quick"
            else []
        ),
        *lines,
        "",
        "## Floors (ours: Python server and Python client)",
        "",
        "| floor | status | detail |",
        "|---|---|---|",
    ]
    out += [f"| {r['floor']} | {r['status']} | {r['detail']} |" for r in fl]
    out += [
        "",
        "## Package",
        "",
        f"- wheel: {extras.get('wheel_name')} — {extras.get('wheel_bytes', 0) / 1e6:.2f} MB",
        f"- `import web_transport`: median {fmt(extras.get('import_ms_median'))} ms "
        f"(runs: {', '.join(f'{x:.1f}' for x in extras.get('import_ms', []))})",
        "",
        "## Machine",
        "",
    ]
    out += [f"- {k}: {v}" for k, v in machine.items()]
    return "\n".join(out) + "\n"


def chart(table: dict[str, Any], impls: list[str], path: Path, title: str) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        return f"no chart: {e}"
    ws = [w for w in WORKLOADS if w in table]
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    colors = {
        "ours": "#d62728",
        "ours_asgi": "#ff9896",
        "ours_uvloop": "#ff7f0e",
        "native": "#7f7f7f",
        "pypi_wtq": "#1f77b4",
        "pywebtransport": "#2ca02c",
        "aioquic": "#9467bd",
    }
    for ax, w in zip(axes.flat, ws, strict=False):
        names, meds, lo, hi, cols = [], [], [], [], []
        for i in impls:
            cell = table[w].get(i)
            m = cell["median"] if cell else None
            names.append(i)
            meds.append(m or 0)
            lo.append((m - cell["min"]) if m is not None else 0)
            hi.append((cell["max"] - m) if m is not None else 0)
            cols.append(colors.get(i, "#333333"))
        ax.bar(names, meds, yerr=[lo, hi], color=cols, capsize=3)
        ax.set_yscale("log")
        ax.set_title(TITLES[w], fontsize=9)
        ax.set_ylabel(UNITS[w], fontsize=8)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
        for x, m, name in zip(range(len(names)), meds, names, strict=True):
            cell = table[w].get(name)
            label = fmt(m) if m else ("failed" if cell else "-")
            ax.annotate(label, (x, m if m else 1), ha="center", va="bottom", fontsize=7)
    for ax in list(axes.flat)[len(ws) :]:
        ax.axis("off")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def machine_info(ours_py: Path | None) -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "os": platform.platform(terse=True),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }
    if ours_py is not None:
        with contextlib.suppress(Exception):
            info["python"] = run([str(ours_py), "-V"], timeout=30).stdout.strip()
    with contextlib.suppress(Exception):
        info["rustc"] = run(["rustc", "-V"], timeout=30).stdout.strip()
    with contextlib.suppress(Exception):
        head = run(["git", "rev-parse", "--short", "HEAD"], timeout=30).stdout.strip()
        dirty = run(
            [
                "git",
                "status",
                "--porcelain",
                "--",
                "src",
                "python",
                "Cargo.toml",
                "Cargo.lock",
                "pyproject.toml",
            ],
            timeout=30,
        ).stdout.strip()
        info["commit"] = head + (" (binding sources modified)" if dirty else "")
    info["load_average_start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return info


# ---------------------------------------------------------------------------------------


@dataclass
class Prepared:
    """What ``prepare`` set up: the runnable implementations and what it recorded."""

    runnable: list[Impl]
    setup_errors: dict[str, str]
    extras: dict[str, Any]
    machine: dict[str, Any]


def prepare(impls: list[str], profile: str, extras: dict[str, Any]) -> Prepared | None:
    """Build ours (wheel + venv with uvloop) and native, install the peers, make the
    certificate; every failure is recorded and that implementation skipped. None when
    ours cannot be set up (the harness cannot run without its certificate tool)."""
    setup_errors: dict[str, str] = {}
    pys: dict[str, Path] = {}
    native_exe: Path | None = None
    try:
        wheel = build_wheel(profile)
        extras["wheel_name"] = wheel.name
        extras["wheel_bytes"] = wheel.stat().st_size
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        pys["ours"] = ensure_venv("ours", [str(wheel), UVLOOP], f"{digest} {UVLOOP}")
    except Exception as e:
        setup_errors["ours"] = str(e)
    if "native" in impls:
        try:
            native_exe = build_native(profile)
        except Exception as e:
            setup_errors["native"] = str(e)
    for name in impls:
        if name in PEERS:
            try:
                pys[name] = ensure_venv(name, PEERS[name], PEERS[name])
            except Exception as e:
                setup_errors[name] = str(e)
    if "ours" not in pys:
        log(f"[setup] FAILED for ours: {setup_errors.get('ours')}")
        return None
    cert = make_cert(pys["ours"])
    if "ours" in impls:
        extras["import_ms"] = import_time_ms(pys["ours"], 7)
        if extras["import_ms"]:
            extras["import_ms_median"] = statistics.median(extras["import_ms"])
    machine = machine_info(pys.get("ours"))

    pem = {"cert": str(cert / "cert.pem"), "key": str(cert / "key.pem")}
    der = {"cert": str(cert / "cert.der"), "key": str(cert / "key.der")}
    runnable: list[Impl] = []
    for name in impls:
        if name == "native":
            if native_exe is not None:
                runnable.append(
                    Impl(
                        name,
                        [str(native_exe), "server"],
                        [str(native_exe), "client"],
                        der,
                        der["cert"],
                    )
                )
        elif name in pys or name in OURS_VARIANTS:
            server_dir, client_dir, extra = OURS_VARIANTS.get(name, (name, name, []))
            py = str(pys["ours" if name in OURS_VARIANTS else name])
            runnable.append(
                Impl(
                    name,
                    [py, str(IMPLS / server_dir / "server.py"), *extra],
                    [py, str(IMPLS / client_dir / "client.py"), *extra],
                    pem,
                    pem["cert"],
                )
            )
    for name, err in setup_errors.items():
        log(f"[setup] {name} skipped: {err}")
    return Prepared(runnable, setup_errors, extras, machine)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke-test sizes, 1 repetition")
    ap.add_argument("--impls", default=None, help="comma-separated subset")
    ap.add_argument("--workloads", default=None, help="comma-separated subset")
    ap.add_argument("--reps", type=int, default=None, help="repetitions (default 5, quick 1)")
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default bench/results, quick: bench/.out/quick)",
    )
    ap.add_argument(
        "--profile",
        default=None,
        help="cargo profile for ours and native (default release, quick dev-release)",
    )
    ap.add_argument(
        "--allow-failures",
        action="store_true",
        help="exit 0 even if a workload of ours or native failed",
    )
    args = ap.parse_args()
    quick = args.quick
    reps = args.reps or (1 if quick else 5)
    profile = args.profile or ("dev-release" if quick else "release")
    out = args.out or (BENCH / ".out" / "quick" if quick else BENCH / "results")
    out.mkdir(parents=True, exist_ok=True)
    logs = fresh_logs()
    impls = [i for i in (args.impls or ",".join(ALL_IMPLS)).split(",") if i]
    workloads = [w for w in (args.workloads or ",".join(WORKLOADS)).split(",") if w]
    params = QUICK if quick else FULL
    started = time.time()

    extras: dict[str, Any] = {"mode": "quick" if quick else "full", "profile": profile}
    prepared = prepare(impls, profile, extras)
    if prepared is None:
        return 1
    runnable, setup_errors, machine = prepared.runnable, prepared.setup_errors, prepared.machine

    outcomes: list[Outcome] = []
    for name, err in setup_errors.items():
        if name in impls:
            outcomes += [Outcome(name, w, 0, False, error=f"setup: {err}") for w in workloads]
    try:
        for rep in range(reps):
            for w in workloads:
                # Every other repetition runs the implementations in reverse order, so
                # that load drifting during a repetition favours none of them.
                for impl in runnable if rep % 2 == 0 else runnable[::-1]:
                    t0 = time.monotonic()
                    o = measure(impl, w, rep, params[w], logs)
                    outcomes.append(o)
                    status = f"{fmt(o.value)} {UNITS[w]}" if o.ok else f"failed: {o.error}"
                    log(
                        f"[{rep + 1}/{reps}] {w} {impl.name:15s} {status}"
                        f"  ({time.monotonic() - t0:.1f} s)"
                    )
    finally:
        Proc.kill_all()

    table = summarize(outcomes)
    extras["w6_sessions"] = params["W6"]["sessions"]
    machine["load_average_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    machine["note"] = (
        "shared machine: other engineers' builds and tests ran at the same "
        "time, so absolute numbers are noisy (see the load averages)"
    )
    machine["duration_s"] = round(time.time() - started)
    machine["date_utc"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime(started))
    fl = floors(table, extras)
    shown = [i for i in ALL_IMPLS if i in impls]
    md = markdown(table, fl, shown, extras, machine, reps)
    title = (
        f"web-transport-python benchmarks ({extras['mode']}, median of {reps}; "
        f"{machine['cores']} cores, {machine['cpu']})"
    )
    chart_err = chart(table, shown, out / "results.png", title)
    if chart_err:
        log(chart_err)
    params_used = {w: params[w] for w in workloads}
    (out / "results.json").write_text(
        json.dumps(
            {
                "machine": machine,
                "extras": extras,
                "params": params_used,
                "reps": reps,
                "summary": table,
                "floors": fl,
                "setup_errors": setup_errors,
                "runs": [o.__dict__ for o in outcomes],
            },
            indent=1,
            default=str,
        )
        + "\n"
    )
    (out / "results.md").write_text(f"# Benchmark results ({extras['mode']} mode)\n\n{md}")
    print(md)
    log(f"[done] {out}/results.{{md,json,png}} in {time.time() - started:.0f} s")

    failed = [o for o in outcomes if not o.ok and o.impl in ("ours", "native")]
    if failed and not args.allow_failures:
        for o in failed:
            log(f"[error] {o.impl} {o.workload}: {o.error}")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        Proc.kill_all()
