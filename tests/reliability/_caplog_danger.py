"""Run by ``test_security.py`` in a fresh pytest process (the warning is once per
*process*, so it cannot be checked reliably inside the main test run): with ``caplog``,
``Client(no_cert_verification=True)`` logs exactly one WARNING containing "DANGER" on
logger ``web_transport``, however many such clients are created."""

from __future__ import annotations

import logging

import pytest
import web_transport as wt


def test_danger_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for _ in range(3):
        wt.Client(no_cert_verification=True).close()
    danger = [r for r in caplog.records if "DANGER" in r.getMessage()]
    assert len(danger) == 1, caplog.records
    assert danger[0].name == "web_transport"
    assert danger[0].levelno == logging.WARNING
    # Verified clients never warn.
    wt.Client(server_certificate_hashes=[b"\0" * 32]).close()
    assert len([r for r in caplog.records if "DANGER" in r.getMessage()]) == 1
