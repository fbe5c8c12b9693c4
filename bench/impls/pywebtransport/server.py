"""Benchmark server for pywebtransport (see bench/impls/common.py for the protocol)."""

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))

import common
import wtpy

if __name__ == "__main__":
    common.server_main(wtpy.run_server)
