"""Benchmark server for ours through the ASGI layer: an ASGI application (the same
per-stream behaviour as every server, see bench/impls/common.py) served by
``web_transport.asgi`` on a ``web_transport.Server``. The client is ours
(``bench/impls/ours/client.py``)."""

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))

import asgi_app

if __name__ == "__main__":
    asgi_app.server_main()
