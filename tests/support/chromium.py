"""The Chromium every browser-driven suite starts (interop, asgi, the rendered-site test).

Debian's /usr/bin/chromium here; ``WEB_TRANSPORT_CHROMIUM`` names another (ci.yml: the
runner image's Google Chrome). The flags keep it off the network beyond loopback; QUIC stays
enabled (never ``--disable-quic``).
"""

from __future__ import annotations

import os

CHROMIUM_PATH = os.environ.get("WEB_TRANSPORT_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
