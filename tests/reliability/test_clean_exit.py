"""Clean exit: interpreters that use the package always exit normally.

Each run is a fresh interpreter (``_exit_child.py``) that opens a server and a client,
exchanges data, then ends in one of several ways: closing everything first, closing
nothing, with tasks still pending, ``sys.exit`` while reads and a flow-blocked write are
pending, an exception or SIGINT mid-transfer, garbage-collecting live objects, an event
loop that is never closed, or the main thread exiting while daemon threads' loops still
move data (one quiet, four in tight echo loops, four with the GIL switching every 10 µs).
Every run must end within a bound with the expected exit code (never SIGABRT, SIGSEGV or
a hang) and no "Fatal Python error" or Rust panic on stderr.

CI runs 44 interpreters (a small pool in parallel); ``WEB_TRANSPORT_FULL=1`` runs 1,000
and records the result in ``results/clean_exit_full.json``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from ._support import FULL, HERE, assert_clean_stderr, child_env, scale, write_result

#: Scenario -> expected exit code (negative: killed by that signal).
SCENARIOS: dict[str, int] = {
    "close_first": 0,
    "no_close": 0,
    "pending_tasks": 0,
    "sys_exit_mid_read": 3,
    "exception_mid_transfer": 1,
    "sigint_mid_transfer": -signal.SIGINT,
    "gc_mid_transfer": 0,
    "loop_never_closed": 0,
    "daemon_thread_loop": 0,
    "daemon_threads_busy": 0,
    "daemon_threads_switching": 0,
}

RUNS = scale(44, 1000)
#: Runs of ``daemon_threads_switching`` alone, two at a time: before ``src/shutdown.rs``
#: about 1 in 8 aborted (measured: 6 of 50 two at a time, 5 of 40 one at a time), so 40
#: runs find that bug again with probability 1 - (7/8)**40 > 99 %.
SWITCHING_RUNS = scale(40, 400)
WORKERS = 4
#: Seconds one interpreter run may take (a run takes well under a second when idle).
PER_RUN = 60.0


@dataclass
class Run:
    scenario: str
    returncode: int | None  # None: hung and was killed
    stdout: str
    stderr: str
    seconds: float

    def problem(self) -> str | None:
        """What is wrong with this run, or None."""
        if self.returncode is None:
            return f"hung for more than {PER_RUN}s"
        expected = SCENARIOS[self.scenario]
        if self.returncode != expected:
            return f"exit code {self.returncode}, expected {expected}"
        if "EXCHANGED" not in self.stdout:
            return "did not exchange data"
        try:
            assert_clean_stderr(self.stderr)
        except AssertionError as e:
            return str(e)[:2000]
        if self.scenario == "exception_mid_transfer" and "RuntimeError: boom" not in self.stderr:
            return "the exception was not reported"
        return None


def run_once(scenario: str) -> Run:
    started = time.monotonic()
    try:
        p = subprocess.run(
            [sys.executable, str(HERE / "_exit_child.py"), scenario],
            capture_output=True,
            text=True,
            timeout=PER_RUN,
            env=child_env(),
        )
        return Run(scenario, p.returncode, p.stdout, p.stderr, time.monotonic() - started)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        return Run(scenario, None, out, err, time.monotonic() - started)


def run_all(plan: list[str], workers: int, record: str, test: str, **facts: object) -> None:
    """Run each scenario of ``plan`` (``workers`` at a time) and assert none failed; with
    ``WEB_TRANSPORT_FULL=1`` record the runs, their failures and ``facts`` as ``record``."""
    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        runs = list(pool.map(run_once, plan))
    failures = [(r, p) for r in runs if (p := r.problem()) is not None]
    if FULL:
        write_result(
            record,
            {
                "test": f"test_clean_exit.py::{test}",
                "runs": len(runs),
                "workers": workers,
                **facts,
                "failures": [
                    {"scenario": r.scenario, "problem": p, "stderr_tail": r.stderr[-1500:]}
                    for r, p in failures
                ],
                "max_run_seconds": round(max(r.seconds for r in runs), 2),
                "total_seconds": round(time.monotonic() - started, 1),
                "passed": not failures,
                "pythonpath": os.environ.get("PYTHONPATH", ""),
            },
        )
    summary = "\n".join(f"- {r.scenario}: {p}" for r, p in failures[:20])
    assert not failures, f"{len(failures)} of {len(runs)} runs failed:\n{summary}"


@pytest.mark.timeout(3600 if FULL else 170)
def test_interpreters_exit_cleanly() -> None:
    names = list(SCENARIOS)
    plan = [names[i % len(names)] for i in range(RUNS)]
    run_all(
        plan,
        WORKERS,
        "clean_exit_full.json",
        "test_interpreters_exit_cleanly",
        per_scenario=dict(Counter(plan)),
        expected_exit_codes=SCENARIOS,
    )


@pytest.mark.timeout(600 if FULL else 120)
def test_daemon_threads_never_die_inside_the_binding() -> None:
    """Daemon threads that yield the GIL inside Python code the binding called while
    the main thread finalizes: each is parked by the exit gate (``src/shutdown.rs``),
    never unwound through the binding by CPython's ``pthread_exit``."""
    run_all(
        ["daemon_threads_switching"] * SWITCHING_RUNS,
        2,
        "clean_exit_switching_full.json",
        "test_daemon_threads_never_die_inside_the_binding",
    )


#: A daemon thread that passes arguments whose conversion would run Python code
#: (``__float__`` of a ``float`` argument, ``__len__`` of a ``list[str]`` one, each
#: yielding the GIL for 0.3 s), in a loop, while the main thread exits. PyO3's wrapper
#: converts arguments before the body enters the exit gate; converted there, such code
#: let the interpreter finalize with the thread inside a Rust frame (on CPython
#: 3.12/3.13, ``pthread_exit`` when it next takes the GIL), and the run aborted. Every
#: argument type is now a quiet extractor (``src/args.rs``, ``QuietArgument``, checked by
#: ``#[gate::pymethods]``/``#[gate::pyfunction]`` at compile time): the objects are
#: refused with ``TypeError`` (REFUSED) and their methods never run (no CALLED).
SLOW_CONVERSION = """
import sys, threading, time
from collections.abc import Sequence

import web_transport

refused = threading.Event()


class SlowFloat:
    def __float__(self) -> float:
        print("CALLED", flush=True)
        time.sleep(0.3)
        return 0.25


class SlowNames(Sequence[str]):
    def __len__(self) -> int:
        print("CALLED", flush=True)
        time.sleep(0.3)
        return 1

    def __getitem__(self, i):
        return ["localhost"][i]


def call() -> None:
    for _ in range(100_000):
        try:
            if sys.argv[1] == "float":
                web_transport.TransportConfig(initial_rtt=SlowFloat())
            else:
                web_transport.generate_self_signed(SlowNames())
        except TypeError as e:
            if not refused.is_set():
                print("REFUSED", e, flush=True)
                refused.set()


threading.Thread(target=call, daemon=True).start()
assert refused.wait(30)
"""


@pytest.mark.parametrize("argument", ["float", "sequence"])
def test_argument_conversion_runs_no_python_code(argument: str) -> None:
    p = subprocess.run(
        [sys.executable, "-c", SLOW_CONVERSION, argument],
        capture_output=True,
        text=True,
        timeout=PER_RUN,
        env=child_env(),
    )
    assert p.returncode == 0, f"exit code {p.returncode}\n{p.stderr[-2000:]}"
    assert_clean_stderr(p.stderr)
    assert "REFUSED" in p.stdout
    assert "CALLED" not in p.stdout
