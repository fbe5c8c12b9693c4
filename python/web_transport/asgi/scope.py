"""The ``webtransport`` connection scope built from a :class:`web_transport.SessionRequest`."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import web_transport as wt
from web_transport.asgi.events import SPEC_VERSION


def build_scope(
    request: wt.SessionRequest,
    server: tuple[str, int],
    *,
    root_path: str = "",
    state: dict[str, Any] | None = None,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ASGI scope of one WebTransport CONNECT, in the keys of ASGI's ``websocket``
    scope (and aioquic's ``webtransport`` scope, of which this is a superset).

    Args:
        request: The extended CONNECT (draft-ietf-webtrans-http3 §3.2).
        server: The server's ``(host, port)``.
        root_path: ASGI ``root_path`` (a mount prefix; default ``""``).
        state: The lifespan state; each scope gets a shallow copy (ASGI lifespan).
        extensions: ``scope["extensions"]``.

    Returns:
        ``type`` ``"webtransport"``, ``asgi`` (``version`` ``"3.0"``, ``spec_version``),
        ``http_version`` ``"3"``, ``scheme`` ``"https"``, ``method`` ``"CONNECT"``,
        ``path`` (percent-decoded), ``raw_path`` and ``query_string`` (bytes, as sent),
        ``root_path``, ``headers`` (lower-case ``(name, value)`` bytes pairs, ``host``
        from ``:authority``), ``client`` and ``server`` (``(host, port)``),
        ``subprotocols`` (the offered ``WT-Available-Protocols``, client's order),
        ``extensions`` and, with a lifespan state, ``state``.
    """
    url = urlsplit(request.url)
    headers = [
        (name.lower().encode("latin-1"), value.encode("utf-8"))
        for name, value in request.headers.items()
        if not name.startswith(":")
    ]
    if not any(name == b"host" for name, _ in headers):
        headers.insert(0, (b"host", url.netloc.encode("utf-8")))
    raw_path = url.path or "/"
    scope: dict[str, Any] = {
        "type": "webtransport",
        "asgi": {"version": "3.0", "spec_version": SPEC_VERSION},
        "http_version": "3",
        "scheme": "https",
        "method": "CONNECT",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode("utf-8"),
        "query_string": url.query.encode("utf-8"),
        "root_path": root_path,
        "headers": headers,
        "client": tuple(request.remote_address),
        "server": tuple(server),
        "subprotocols": list(request.protocols),
        "extensions": extensions if extensions is not None else {},
    }
    if state is not None:
        scope["state"] = dict(state)
    return scope
