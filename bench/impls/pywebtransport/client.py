"""Benchmark client for pywebtransport (see bench/impls/common.py for the protocol)."""

import asyncio
import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))

import common
import wtpy

if __name__ == "__main__":
    args = common.client_args()
    common.emit(asyncio.run(asyncio.wait_for(wtpy.run_client(args), args.timeout)))
