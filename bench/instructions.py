"""Instruction-count mode of the benchmark suite: ``bench/run --instructions``.

Runs W1-W4 with both processes (server and client) under ``valgrind --tool=callgrind``
and reports the instructions each executes per operation: per MiB (W1), per round trip
(W2), per datagram sent (W3) and per session (W4). Unlike wall-clock rates, instruction
counts depend far less on the load of the machine: two runs of the same build agree
to 1 % in W1, W4 and the W3 clients, and in ours' W2 with ``--reps 5`` (medians); native's
W2 to 2-3 % and the W3 servers to 1-7 % (bench/README.md, "Repeatability"), where quinn's
timers and datagram loss make the work per operation vary.

Each workload runs a fixed number of operations (not a fixed duration), twice: with a
small count ``n1`` and a large count ``n2``. The set-up (interpreter start, imports,
handshake of the first session, shutdown) is the same in both runs, so
``(I(n2) - I(n1)) / (n2 - n1)`` is the cost of one operation without it. Every count of
the table is that difference, for the client and for the server process (all threads).

See bench/README.md ("Instruction counts") for how to A/B a change.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import run as harness

IMPLS = ["ours", "ours_uvloop", "native"]
WORKLOADS = ["W1", "W2", "W3", "W4"]
SIDES = ("client", "server")
OP = {"W1": "MiB", "W2": "round trip", "W3": "datagram", "W4": "session"}

#: Operations per run of the Python implementations: (small, large). W3's counts are
#: multiples of ours' burst of 64.
COUNTS: dict[str, tuple[int, int]] = {
    "W1": (4, 20),
    "W2": (50, 1050),
    "W3": (1024, 5120),
    "W4": (5, 25),
}
QUICK_COUNTS: dict[str, tuple[int, int]] = {
    "W1": (2, 4),
    "W2": (10, 20),
    "W3": (256, 512),
    "W4": (2, 4),
}
#: Native runs this many times the operations: its start-up is short, and its run-to-run
#: variation (ACK and pacing timing) is a larger share of its cheaper operations.
NATIVE_SCALE = 4

#: Timeouts of the harness are multiplied by this under valgrind (~50x slower).
SLOW = 10.0
#: Seconds a process has after SIGTERM to write its callgrind profile.
GRACE = 60.0

#: ``--fair-sched=yes``: valgrind runs one thread at a time; a ticket lock hands the CPU
#: over in a fixed order instead of whichever thread the kernel wakes first.
CALLGRIND = [
    "valgrind",
    "--tool=callgrind",
    "--fair-sched=yes",
    "--dump-line=no",
    "--dump-instr=no",
]
#: Both processes on one core: they take turns (a process runs when the other blocks)
#: instead of racing each other, so the wake-ups of an operation vary less (bench/README.md,
#: "Repeatability").
#: ``BENCH_PIN_CPU`` picks the core (default 1); ``none`` does not pin.
_CPU = os.environ.get("BENCH_PIN_CPU", "1")
PIN = [] if _CPU == "none" else ["taskset", "-c", _CPU]
#: One tokio worker thread in ours (its default, set explicitly) and native (whose
#: default is one per core), one frozen start-up heap (``gc.freeze()``).
ENV = {"BENCH_GC_FREEZE": "1", "WEB_TRANSPORT_WORKER_THREADS": "1", "WT_BENCH_WORKERS": "1"}


def params(workload: str, n: int) -> dict[str, Any]:
    """The client's parameters for ``n`` operations of ``workload`` (no time limit)."""
    if workload == "W1":
        return {"size": n * harness.MiB}
    ready = {"ready": 1} if workload == "W3" else {}
    return {**harness.FULL[workload], "duration": 1e6, "count": n, **ready}


def total_instructions(path: Path) -> int:
    """The ``totals:`` (or ``summary:``) line of a callgrind profile: instructions of every
    thread of the process. Raises ``ValueError`` if the profile has neither."""
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise ValueError(f"{path}: no totals line")


@dataclass
class Cell:
    """Instructions per operation of one implementation, workload and side."""

    values: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    def spread(self) -> float | None:
        """(max - min) / median over the repetitions; None with fewer than 2."""
        m = self.median()
        if len(self.values) < 2 or not m:
            return None
        return (max(self.values) - min(self.values)) / m


def one_run(
    impl: harness.Impl, workload: str, n: int, rep: int, logs: Path, profiles: Path
) -> dict[str, Any]:
    """Run ``n`` operations under callgrind; the instructions of each side and the
    client's JSON result. Raises ``RuntimeError`` if the run or a profile failed."""
    tag = f"{impl.name}-{workload}-n{n}-r{rep}"

    def prefix(tag: str, role: str) -> list[str]:
        return [*PIN, *CALLGRIND, f"--callgrind-out-file={profiles / f'{tag}.{role}.out'}"]

    wrap = harness.Wrap(prefix=prefix, slow=SLOW, grace=GRACE, env=ENV, wait_exit=True)
    t0 = time.monotonic()
    o = harness.measure(impl, workload, rep, params(workload, n), logs, wrap, tag)
    if not o.ok:
        raise RuntimeError(o.error or "failed")
    out: dict[str, Any] = {"n": n, "seconds": round(time.monotonic() - t0, 1)}
    for side in SIDES:
        out[side] = total_instructions(profiles / f"{tag}.{side}.out")
    if workload == "W3":
        out["sent"] = o.detail.get("sent")
        out["received"] = o.detail.get("received")
        if not out["received"]:
            raise RuntimeError("W3: the server received no datagram")
    return out


def per_op(workload: str, small: dict[str, Any], large: dict[str, Any]) -> dict[str, float]:
    """Instructions per operation of each side, from a small and a large run. W3's server
    is counted per datagram it received (datagrams lost before the application cost it
    little), its client per datagram sent."""
    ops = {s: large["n"] - small["n"] for s in SIDES}
    if workload == "W3":
        ops["server"] = large["received"] - small["received"]
        if ops["server"] <= 0:
            raise RuntimeError("W3: the larger run delivered no more datagrams")
    per = {s: (large[s] - small[s]) / ops[s] for s in SIDES}
    per["both"] = per["client"] + per["server"]
    return per


def fmt_k(v: float | None) -> str:
    """Instructions in thousands, 4 significant digits: ``12,345 k``, ``12.35 k``."""
    if v is None:
        return "-"
    k = v / 1e3
    digits = 0 if abs(k) >= 1000 else 1 if abs(k) >= 100 else 2 if abs(k) >= 10 else 3
    return f"{k:,.{digits}f} k"


def markdown(
    cells: dict[tuple[str, str, str], Cell],
    impls: list[str],
    workloads: list[str],
    reps: int,
    counts: dict[str, tuple[int, int]],
) -> str:
    others = [i for i in impls if i != "native"]
    ratios = [f"{i}/native" for i in others] if "native" in impls else []
    head = ["workload", "per", "process", *impls, *ratios]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for w in workloads:
        for side in (*SIDES, "both"):
            row = [w, OP[w], side]
            meds = {}
            for i in impls:
                c = cells[(i, w, side)]
                meds[i] = c.median()
                text = fmt_k(meds[i])
                sp = c.spread()
                if sp is not None:
                    text += f" (±{100 * sp / 2:.1f} %)"
                if c.errors and not c.values:
                    text = f"failed: {c.errors[0][:50]}"
                row.append(text)
            n = meds.get("native")
            for i in others if ratios else []:
                v = meds[i]
                row.append("-" if v is None or not n else f"{v / n:.2f}")
            lines.append("| " + " | ".join(row) + " |")
    used = "; ".join(f"{w} n = {counts[w][0]} and {counts[w][1]}" for w in workloads)
    used += f"; native {NATIVE_SCALE} x these"
    return "\n".join(
        [
            "## Instructions per operation (callgrind)",
            "",
            "Thousands of instructions per operation: (I(n2) - I(n1)) / (n2 - n1) of the "
            f"whole process, all threads ({used}; W1 n in MiB). Median of {reps}"
            + (", ± half the spread (max - min) / median" if reps > 1 else "")
            + ". `both` is client + server. W3: the client per datagram sent, the server "
            "per datagram it received.",
            "",
            *lines,
        ]
    )


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke-test counts (QUICK_COUNTS)")
    ap.add_argument("--impls", default=None, help=f"comma-separated subset of {','.join(IMPLS)}")
    ap.add_argument("--workloads", default=None, help="comma-separated subset of W1-W4")
    ap.add_argument("--reps", type=int, default=None, help="repetitions (default 1): median")
    ap.add_argument("--out", type=Path, default=None,
                    help="output directory (default bench/results/instructions, "
                    "quick: bench/.out/instructions)")  # fmt: skip
    ap.add_argument("--profile", default=None, help="cargo profile (default dev-release)")
    ap.add_argument("--allow-failures", action="store_true",
                    help="exit 0 even if a workload of ours or native failed")  # fmt: skip
    return ap.parse_args()


def main(args: argparse.Namespace) -> int:
    if shutil.which("valgrind") is None:
        harness.log("[error] valgrind is not installed (apt-get install valgrind)")
        return 1
    reps = args.reps or 1
    profile = args.profile or "dev-release"
    counts = QUICK_COUNTS if args.quick else COUNTS
    out = args.out or (
        harness.BENCH / ".out" / "instructions"
        if args.quick
        else harness.BENCH / "results" / "instructions"
    )
    out.mkdir(parents=True, exist_ok=True)
    impls = [i for i in (args.impls or ",".join(IMPLS)).split(",") if i]
    workloads = [w for w in (args.workloads or ",".join(WORKLOADS)).split(",") if w]
    unknown = [w for w in workloads if w not in COUNTS]
    if unknown:
        harness.log(f"[error] the instruction mode runs W1-W4, not {', '.join(unknown)}")
        return 2
    # Profiles and logs of this output directory only, so that two runs (say an A/B's
    # halves, each pinned to its own core) can run at once.
    profiles = harness.BUILD / "callgrind" / out.name
    logs = profiles
    shutil.rmtree(profiles, ignore_errors=True)
    profiles.mkdir(parents=True)
    started = time.time()
    extras: dict[str, Any] = {"mode": "instructions", "profile": profile}
    prepared = harness.prepare(impls, profile, extras)
    if prepared is None:
        return 1

    cells = {(i, w, s): Cell() for i in impls for w in workloads for s in (*SIDES, "both")}
    for name, err in prepared.setup_errors.items():
        for key, cell in cells.items():
            if key[0] == name:
                cell.errors.append(f"setup: {err}")
    runs: list[dict[str, Any]] = []
    try:
        for rep in range(reps):
            for w in workloads:
                for impl in prepared.runnable:
                    scale = NATIVE_SCALE if impl.name == "native" else 1
                    n1, n2 = (n * scale for n in counts[w])
                    t0 = time.monotonic()
                    try:
                        small = one_run(impl, w, n1, rep, logs, profiles)
                        large = one_run(impl, w, n2, rep, logs, profiles)
                        per = per_op(w, small, large)
                    except (RuntimeError, OSError, ValueError) as e:
                        for s in (*SIDES, "both"):
                            cells[(impl.name, w, s)].errors.append(str(e))
                        harness.log(f"[{rep + 1}/{reps}] {w} {impl.name:12s} failed: {e}")
                        continue
                    for s, v in per.items():
                        cells[(impl.name, w, s)].values.append(v)
                    runs.append(
                        {"impl": impl.name, "workload": w, "rep": rep, "runs": [small, large]}
                        | {f"per_op_{s}": v for s, v in per.items()}
                    )
                    harness.log(
                        f"[{rep + 1}/{reps}] {w} {impl.name:12s} per {OP[w]}: "
                        f"client {fmt_k(per['client'])}, server {fmt_k(per['server'])}"
                        f"  ({time.monotonic() - t0:.0f} s)"
                    )
    finally:
        harness.Proc.kill_all()

    machine = prepared.machine
    machine["load_average_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    machine["duration_s"] = round(time.time() - started)
    machine["date_utc"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime(started))
    md = markdown(cells, impls, workloads, reps, counts)
    summary = {
        f"{i}/{w}/{s}": {"median": c.median(), "values": c.values, "errors": c.errors}
        for (i, w, s), c in cells.items()
    }
    (out / "results.json").write_text(
        json.dumps(
            {
                "machine": machine,
                "extras": extras,
                "counts": {w: counts[w] for w in workloads},
                "reps": reps,
                "summary": summary,
                "runs": runs,
            },
            indent=1,
        )
        + "\n"
    )
    machine_md = "\n".join(f"- {k}: {v}" for k, v in machine.items())
    (out / "results.md").write_text(
        f"# Benchmark results (instructions mode)\n\n{md}\n\n## Machine\n\n{machine_md}\n"
    )
    print(md)
    harness.log(f"[done] {out}/results.{{md,json}} in {time.time() - started:.0f} s")
    failed = [c for (i, _, _), c in cells.items() if i in ("ours", "native") and c.errors]
    return 1 if failed and not args.allow_failures else 0


if __name__ == "__main__":
    raise SystemExit(main(parse_args()))
