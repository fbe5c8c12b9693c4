"""Profile ours on W1/W2/W3 with ``perf`` (cpu-clock sampling, both processes).

    uv run --no-project python bench/profile.py [--python PY] [--workloads W1,W2,W3]

``--python`` is the interpreter of a venv with an *unstripped* build of ours (default:
bench/.venvs/ours-prof, created here from the ``dev-release`` wheel that
``bench/run --quick`` also builds: optimised, symbols kept). Python 3.12's
``-X perf`` makes Python functions show up by name. For each workload it writes
``bench/results/profile/<W>.txt``: the share of samples per process and thread
(the Python main thread vs the tokio workers called ``web-transport``), per shared
object, and the top symbols.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as harness

PARAMS = {
    "W1": {"size": 512 << 20},
    "W2": {"duration": 4.0, "payload": 64},
    "W3": {"duration": 4.0, "payload": 1000},
}


def report(data: Path, sort: str, limit: int) -> str:
    r = subprocess.run(
        [
            "perf",
            "report",
            "-i",
            str(data),
            "--stdio",
            "--no-children",
            "-g",
            "none",
            "--sort",
            sort,
            "--percent-limit",
            "0.7",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [ln for ln in r.stdout.splitlines() if ln.strip() and not ln.startswith("#")]
    return "\n".join(lines[:limit])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", type=Path, default=harness.VENVS / "ours-prof" / "bin" / "python")
    ap.add_argument("--workloads", default="W1,W2,W3")
    ap.add_argument("--out", type=Path, default=harness.BENCH / "results" / "profile")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.python.exists():
        wheel = harness.build_wheel("dev-release")
        args.python = harness.ensure_venv("ours-prof", str(wheel), wheel.name)
    cert = harness.make_cert(args.python)
    py = [str(args.python), "-X", "perf"]
    for w in args.workloads.split(","):
        port = harness.free_port()
        server = harness.Proc(
            [
                *py,
                str(harness.IMPLS / "ours" / "server.py"),
                "--port",
                str(port),
                "--workload",
                w,
                "--cert",
                str(cert / "cert.pem"),
                "--key",
                str(cert / "key.pem"),
            ]
        )
        server.expect("READY", 60)
        client_argv = [
            *py,
            str(harness.IMPLS / "ours" / "client.py"),
            "--port",
            str(port),
            "--workload",
            w,
            "--cert",
            str(cert / "cert.pem"),
        ]
        for k, v in PARAMS[w].items():
            client_argv += [f"--{k}", str(v)]
        client = harness.Proc(client_argv)
        time.sleep(0.5)  # skip the handshake
        data = {side: args.out / f"{w}.{side}.data" for side in ("server", "client")}
        perfs = [
            subprocess.Popen(
                [
                    "perf",
                    "record",
                    "-q",
                    "-e",
                    "cpu-clock",
                    "-F",
                    "999",
                    "-g",
                    "-o",
                    str(data[side]),
                    "-p",
                    str(proc.p.pid),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for side, proc in (("server", server), ("client", client))
        ]
        result = client.expect("{", 300)
        for p in perfs:
            p.send_signal(2)
            p.wait(timeout=60)
        client.kill()
        server.kill()
        parts = [f"# {w} (ours, Python client and server) result: {result}", ""]
        for side in ("server", "client"):
            parts += [
                f"## {side}: samples per thread",
                report(data[side], "comm", 10),
                "",
                f"## {side}: per shared object",
                report(data[side], "dso", 12),
                "",
                f"## {side}: top symbols (self)",
                report(data[side], "dso,sym", 45),
                "",
            ]
            data[side].unlink(missing_ok=True)
        text = "\n".join(parts)
        (args.out / f"{w}.txt").write_text(text + "\n")
        print(text)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        harness.Proc.kill_all()
