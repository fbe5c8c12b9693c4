"""Benchmark server for ours (see bench/impls/common.py for the protocol)."""

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))

import wtq_api

if __name__ == "__main__":
    wtq_api.server_main("ours")
