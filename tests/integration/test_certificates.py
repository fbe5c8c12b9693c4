"""Certificates end to end: a server configured with the certificate and key as DER or
PEM, bytes/bytearray/memoryview/str/pathlib.Path, single or list/tuple, PKCS#8/SEC1/RSA
keys, and a PEM chain file (leaf + CA) verified by a client with ``ca_certificates``;
certificate hash pinning (wrong hash, a certificate valid for more than 14 days) and
``no_cert_verification``; certificate_hash over every input form; loading errors.

The CA, chain, RSA and long-lived certificates are files made once
by ``tests/support/certs/make_certs.py`` (valid for 50 years), so no test calls a
command-line tool whose options differ between runners, and the suite needs no extra dependency."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import web_transport as wt

from tests.support import certs

from .conftest import WAIT

pytestmark = pytest.mark.timeout(60)

#: Certificates and keys made once by support/certs/make_certs.py (valid 2026-11-25 for 50 years).
CERTS = certs.DIR


def pem(kind: str, der: bytes) -> str:
    body = base64.encodebytes(der).decode("ascii").replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----\n"


@dataclass(frozen=True)
class CertFiles:
    ca: Path  # CA certificate, PEM
    chain: Path  # leaf + CA, PEM
    leaf_key: Path  # SEC1 ("EC PRIVATE KEY") PEM
    leaf_der: bytes
    long_cert: Path  # self-signed, valid for 50 years, PEM
    long_key: Path  # PKCS#8
    rsa_cert: Path  # signed by the CA
    rsa_key: Path  # PKCS#1 ("RSA PRIVATE KEY") PEM


@pytest.fixture(scope="module")
def cert_files() -> CertFiles:
    files = CertFiles(
        ca=CERTS / "ca.pem",
        chain=CERTS / "chain.pem",
        leaf_key=CERTS / "leaf.key",
        leaf_der=(CERTS / "leaf.der").read_bytes(),
        long_cert=CERTS / "long.pem",
        long_key=CERTS / "long.key",
        rsa_cert=CERTS / "rsa.pem",
        rsa_key=CERTS / "rsa.key",
    )
    assert "BEGIN EC PRIVATE KEY" in files.leaf_key.read_text()
    assert "BEGIN RSA PRIVATE KEY" in files.rsa_key.read_text()
    return files


async def connects(
    certificate_chain: Any, private_key: Any, *, expect_hash: bytes | None = None, **client: Any
) -> wt.Session:
    """Start a server with the given certificate material and connect to it once."""
    async with wt.Server(
        certificate_chain=certificate_chain, private_key=private_key, bind="127.0.0.1:0"
    ) as server:
        port = server.local_addr[1]

        async def serve() -> None:
            request = await server.accept()
            assert request is not None
            await request.accept()

        serving = asyncio.ensure_future(serve())
        if expect_hash is not None:
            client.setdefault("server_certificate_hashes", [expect_hash])
        async with wt.Client(**client) as c:
            session = await asyncio.wait_for(c.connect(f"https://127.0.0.1:{port}/"), WAIT)
            await asyncio.wait_for(serving, WAIT)
            assert session.close_reason is None
            return session


FORMS: dict[str, Callable[[bytes, bytes, Path], tuple[Any, Any]]] = {
    "der-bytes": lambda c, k, d: (c, k),
    "der-bytearray": lambda c, k, d: (bytearray(c), bytearray(k)),
    "der-memoryview": lambda c, k, d: (memoryview(c), memoryview(k)),
    "der-list": lambda c, k, d: ([c], k),
    "der-tuple": lambda c, k, d: ((c,), k),
    "pem-str": lambda c, k, d: (pem("CERTIFICATE", c), pem("PRIVATE KEY", k)),
    "pem-bytes": lambda c, k, d: (
        pem("CERTIFICATE", c).encode(),
        pem("PRIVATE KEY", k).encode(),
    ),
    "pem-bytes-leading-newlines": lambda c, k, d: (
        b"\n\n" + pem("CERTIFICATE", c).encode(),
        pem("PRIVATE KEY", k).encode(),
    ),
}


def write_files(c: bytes, k: bytes, d: Path, kind: str) -> tuple[Path, Path]:
    if kind == "der":
        (d / "cert.der").write_bytes(c)
        (d / "key.der").write_bytes(k)
        return d / "cert.der", d / "key.der"
    (d / "cert.pem").write_text(pem("CERTIFICATE", c))
    (d / "key.pem").write_text(pem("PRIVATE KEY", k))
    return d / "cert.pem", d / "key.pem"


@pytest.mark.parametrize("form", list(FORMS))
async def test_in_memory_forms(form: str, self_signed_cert: Any, tmp_path: Path) -> None:
    chain, key = FORMS[form](self_signed_cert.certificate, self_signed_cert.private_key, tmp_path)
    await connects(chain, key, expect_hash=self_signed_cert.hash)


@pytest.mark.parametrize("kind", ["der", "pem"])
@pytest.mark.parametrize("as_type", ["str", "path"])
async def test_file_forms(kind: str, as_type: str, self_signed_cert: Any, tmp_path: Path) -> None:
    cert_path, key_path = write_files(
        self_signed_cert.certificate, self_signed_cert.private_key, tmp_path, kind
    )
    conv: Callable[[Path], Any] = str if as_type == "str" else (lambda p: p)
    await connects(conv(cert_path), conv(key_path), expect_hash=self_signed_cert.hash)


def test_certificate_hash_of_every_form(self_signed_cert: Any, tmp_path: Path) -> None:
    der = self_signed_cert.certificate
    expected = hashlib.sha256(der).digest()
    assert self_signed_cert.hash == expected
    der_path, _ = write_files(der, self_signed_cert.private_key, tmp_path, "der")
    pem_text = ssl.DER_cert_to_PEM_cert(der)
    (tmp_path / "c.pem").write_text(pem_text)
    forms: list[Any] = [
        der,
        bytearray(der),
        memoryview(der),
        pem_text,
        pem_text.encode(),
        str(der_path),
        der_path,
        tmp_path / "c.pem",
        [der],  # a list: the chain's first certificate
    ]
    for form in forms:
        assert wt.certificate_hash(form) == expected, type(form)


async def test_pem_chain_file_with_ca_certificates(
    cert_files: CertFiles, self_signed_cert: Any
) -> None:
    f = cert_files
    # The chain's leaf is what certificate_hash reports.
    assert wt.certificate_hash(f.chain) == hashlib.sha256(f.leaf_der).digest()
    for ca in (f.ca, str(f.ca), f.ca.read_bytes(), [f.ca.read_text()]):
        session = await connects(f.chain, f.leaf_key, ca_certificates=ca)
        assert session.remote_address[0] == "127.0.0.1"
    await connects(str(f.chain), f.leaf_key.read_bytes(), ca_certificates=f.ca)
    # A chain also works with hash pinning of its leaf (the certificates after it are
    # ignored); pinning needs a leaf valid for at most 14 days: the generated one.
    ca_der = ssl.PEM_cert_to_DER_cert(f.ca.read_text())
    await connects(
        [self_signed_cert.certificate, ca_der],
        self_signed_cert.private_key,
        expect_hash=self_signed_cert.hash,
    )


async def test_ca_verification_rejects_unknown_issuer(
    cert_files: CertFiles, self_signed_cert: Any
) -> None:
    with pytest.raises(wt.ConnectError):
        await connects(
            self_signed_cert.certificate,
            self_signed_cert.private_key,
            ca_certificates=cert_files.ca,
        )


async def test_rsa_pkcs1_key(cert_files: CertFiles) -> None:
    f = cert_files
    # Verified through the CA: hash pinning would need a certificate valid <= 14 days.
    session = await connects(f.rsa_cert, f.rsa_key, ca_certificates=f.ca)
    assert session.remote_address[0] == "127.0.0.1"


async def test_certificate_valid_over_14_days_refused_by_pinning(
    cert_files: CertFiles,
) -> None:
    f = cert_files
    digest = wt.certificate_hash(f.long_cert)
    with pytest.raises(wt.ConnectError) as info:
        await connects(f.long_cert, f.long_key, expect_hash=digest)
    assert not isinstance(info.value, wt.SessionRejected)
    assert "14 days" in str(info.value)
    # The same certificate is fine when verification is skipped: pinning refused it.
    await connects(f.long_cert, f.long_key, no_cert_verification=True)


async def test_wrong_certificate_hash(self_signed_cert: Any) -> None:
    with pytest.raises(wt.ConnectError) as info:
        await connects(
            self_signed_cert.certificate,
            self_signed_cert.private_key,
            expect_hash=hashlib.sha256(b"some other certificate").digest(),
        )
    assert not isinstance(info.value, wt.SessionRejected)
    assert "server_certificate_hashes" in str(info.value)


async def test_one_of_several_hashes_matches(self_signed_cert: Any) -> None:
    await connects(
        self_signed_cert.certificate,
        self_signed_cert.private_key,
        server_certificate_hashes=[b"\0" * 32, self_signed_cert.hash],
    )


async def test_no_cert_verification_warns(
    self_signed_cert: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="web_transport")
    # The warning is logged once per process; it may already have been, so only check
    # that connecting works and that any warning names the danger.
    await connects(
        self_signed_cert.certificate, self_signed_cert.private_key, no_cert_verification=True
    )
    for record in caplog.records:
        if record.name == "web_transport":
            assert "no_cert_verification" in record.getMessage()


async def test_system_roots_reject_self_signed(self_signed_cert: Any) -> None:
    with pytest.raises(wt.ConnectError):
        await connects(self_signed_cert.certificate, self_signed_cert.private_key)


def test_loading_errors(self_signed_cert: Any, tmp_path: Path) -> None:
    cert, key = self_signed_cert.certificate, self_signed_cert.private_key

    def server(chain: Any, private_key: Any) -> None:
        wt.Server(certificate_chain=chain, private_key=private_key, bind="127.0.0.1:0")

    with pytest.raises(ValueError, match="certificate_chain"):
        server(b"garbage", key)
    with pytest.raises(ValueError, match="certificate_chain"):
        server(b"", key)
    with pytest.raises(ValueError, match="certificate_chain"):
        server([], key)
    with pytest.raises(ValueError, match="certificate_chain"):
        server("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", key)
    with pytest.raises(TypeError, match="certificate_chain"):
        server(12345, key)
    with pytest.raises(OSError, match="certificate_chain"):
        server(str(tmp_path / "missing.pem"), key)
    with pytest.raises(OSError, match="certificate_chain"):
        server(tmp_path / "missing.pem", key)
    with pytest.raises(ValueError, match="private_key"):
        server(cert, b"garbage")
    with pytest.raises(ValueError, match="private_key"):
        server(cert, pem("CERTIFICATE", cert))  # PEM without a key
    with pytest.raises(TypeError, match="private_key"):
        server(cert, 3.5)
    other_cert, other_key = wt.generate_self_signed(["localhost"])
    with pytest.raises(ValueError, match="private_key"):
        server(cert, other_key)  # does not match the certificate
    del other_cert
    with pytest.raises(ValueError, match="certificate"):
        wt.certificate_hash(b"not a certificate")
    with pytest.raises(TypeError, match="certificate"):
        wt.certificate_hash(None)  # type: ignore
    with pytest.raises(OSError, match="certificate"):
        wt.certificate_hash(tmp_path / "missing.der")
