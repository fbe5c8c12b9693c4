"""Security defaults.

- Certificate verification is on by default: a ``Client()`` without options refuses our
  self-signed server with :class:`~web_transport.ConnectError`.
- ``no_cert_verification=True`` logs a WARNING containing "DANGER" on logger
  ``web_transport`` exactly once per process (checked with ``caplog`` in a fresh pytest
  process, ``_caplog_danger.py``).
- Hash pinning refuses what browsers refuse for ``serverCertificateHashes``: certificates
  valid for more than 14 days, expired or not yet valid; a 14-day one is accepted.
- No secrets in logs: with every logger at DEBUG, a full handshake, echo and close, and
  the errors for bad keys never show the private key (PEM, base64 body, DER, hex) in
  log records, exception messages or stderr.
- ``SSLKEYLOGFILE`` is honoured only when set: with it, a key log file with
  ``CLIENT_HANDSHAKE_TRAFFIC_SECRET`` lines appears; without it, no file is written.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import web_transport as wt

from tests.support.certs import build as _certs
from tests.support.peers import Cert

from ._support import BOUND, HERE, child_env, echo_bytes, echo_server

pytestmark = pytest.mark.timeout(120)


async def test_default_client_refuses_a_self_signed_server(certs: Cert) -> None:
    async with echo_server(certs) as es, wt.Client(max_idle_timeout=5.0) as client:
        with pytest.raises(wt.ConnectError):
            await asyncio.wait_for(client.connect(es.url), BOUND)
        assert es.sessions == []


def test_no_cert_verification_warns_danger_once_per_process() -> None:
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            str(HERE / "_caplog_danger.py"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
        cwd=HERE.parent.parent,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "1 passed" in p.stdout


@pytest.mark.parametrize(
    "made",
    [
        pytest.param(_certs.too_long, id="valid-30-days"),
        pytest.param(_certs.expired, id="expired"),
        pytest.param(_certs.not_yet_valid, id="not-yet-valid"),
    ],
)
async def test_hash_pinning_refuses_what_browsers_refuse(
    made: Callable[[], _certs.Made],
) -> None:
    cert = made()
    server = wt.Server(
        certificate_chain=[cert.cert_der], private_key=cert.key_der, bind="127.0.0.1:0"
    )
    try:
        client = wt.Client(
            server_certificate_hashes=[wt.certificate_hash(cert.cert_der)], max_idle_timeout=5.0
        )
        async with client:
            with pytest.raises(wt.ConnectError):
                await asyncio.wait_for(
                    client.connect(f"https://127.0.0.1:{server.local_addr[1]}/"), BOUND
                )
    finally:
        server.close()


async def test_hash_pinning_accepts_a_14_day_certificate() -> None:
    cert = _certs.fourteen_days()
    certs = Cert(cert.cert_der, cert.key_der, wt.certificate_hash(cert.cert_der))
    async with echo_server(certs) as es, wt.Client(server_certificate_hashes=[certs.hash]) as c:
        session = await asyncio.wait_for(c.connect(es.url), BOUND)
        assert await echo_bytes(session, b"pinned") == b"pinned"
        session.close()


def key_fingerprints(made: _certs.Made) -> list[str]:
    """Ways a private key could show up in text."""
    pem = made.key_pem.decode()
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    return [
        body[:32],
        body[32:64],
        base64.b64encode(made.key_der).decode()[:32],
        made.key_der.hex()[:32],
        made.key_der[-32:].hex(),
        repr(made.key_der[-16:])[2:-1],
        made.key_der[-16:].decode("latin-1"),
    ]


async def test_no_secrets_in_logs(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    made = _certs.fourteen_days()
    certs = Cert(made.cert_der, made.key_der, wt.certificate_hash(made.cert_der))
    messages: list[str] = []
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("web_transport").setLevel(logging.DEBUG)
        # Keys in PEM form too, so that a PEM body would be recognisable.
        server = wt.Server(
            certificate_chain=made.cert_pem, private_key=made.key_pem, bind="127.0.0.1:0"
        )
        server.close()
        async with echo_server(certs) as es, wt.Client(server_certificate_hashes=[certs.hash]) as c:
            session = await asyncio.wait_for(c.connect(es.url), BOUND)
            assert await echo_bytes(session, b"x" * 10000) == b"x" * 10000
            session.close(3, "bye")
            await asyncio.wait_for(session.wait_closed(), BOUND)
        # Errors about keys must not echo the key material either.
        for bad_key in (made.key_pem[:-40], made.key_der[:-5], made.key_pem + b"junk"):
            try:
                wt.Server(
                    certificate_chain=_certs.expired().cert_der,
                    private_key=bad_key,
                    bind="127.0.0.1:0",
                ).close()
            except ValueError as e:
                messages.append(str(e))
        try:
            wt.Server(
                certificate_chain=_certs.expired().cert_der,
                private_key=made.key_der,
                bind="127.0.0.1:0",
            ).close()
        except ValueError as e:
            messages.append(str(e))
    assert messages, "the mismatched keys were accepted"
    out, err = capfd.readouterr()
    text = "\n".join([caplog.text, *messages, out, err])
    assert "PRIVATE KEY" not in text
    for fingerprint in key_fingerprints(made):
        assert fingerprint not in text, f"key material in logs/messages: {fingerprint!r}"


def run_echo_child(cwd: Path, env_extra: dict[str, str]) -> None:
    p = subprocess.run(
        [sys.executable, str(HERE / "_security_child.py"), "echo"],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(env_extra),
        cwd=cwd,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    assert "OK" in p.stdout


def test_sslkeylogfile_written_when_set(tmp_path: Path) -> None:
    keylog = tmp_path / "keys.log"
    run_echo_child(tmp_path, {"SSLKEYLOGFILE": str(keylog)})
    lines = keylog.read_text().splitlines()
    labels = {line.split()[0] for line in lines}
    assert "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in labels
    assert {"SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0"} <= labels
    for line in lines:  # NSS key log format: LABEL <client random hex> <secret hex>
        _label, random, secret = line.split()
        assert len(bytes.fromhex(random)) == 32
        assert len(bytes.fromhex(secret)) >= 32


def test_sslkeylogfile_not_written_when_unset(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    run_echo_child(tmp_path, {"HOME": str(home)})  # child_env() drops SSLKEYLOGFILE
    assert [p.name for p in tmp_path.iterdir()] == ["home"]
    assert list(home.iterdir()) == []
