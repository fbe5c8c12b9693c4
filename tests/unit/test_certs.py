"""generate_self_signed and certificate_hash without a network: the certificate is an
ECDSA P-256 X.509 certificate for the requested names, valid from just before now for
exactly ``validity_days`` (1..14), with a PKCS#8 key; bad arguments raise
ValueError/TypeError naming them; certificate_hash is the SHA-256 of the DER."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ssl
from pathlib import Path
from typing import Any

import pytest
import web_transport as wt


def decode(cert_der: bytes, tmp_path: Path) -> dict[str, object]:
    """Parse a certificate with CPython's ssl module (its test helper reads a PEM file)."""
    decoder = getattr(ssl._ssl, "_test_decode_cert", None)  # type: ignore
    if decoder is None:
        pytest.skip("this Python has no ssl._ssl._test_decode_cert")
    path = tmp_path / "cert.pem"
    path.write_text(ssl.DER_cert_to_PEM_cert(cert_der))
    return decoder(str(path))


def when(text: object) -> dt.datetime:
    assert isinstance(text, str)
    return dt.datetime.strptime(text, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=dt.UTC)


def test_generate_returns_der_certificate_and_key(tmp_path: Path) -> None:
    cert, key = wt.generate_self_signed(["localhost", "127.0.0.1", "::1", "example.test"])
    assert isinstance(cert, bytes)
    assert isinstance(key, bytes)
    assert cert[0] == 0x30  # DER SEQUENCE
    assert key[0] == 0x30
    info = decode(cert, tmp_path)
    sans = info["subjectAltName"]
    assert ("DNS", "localhost") in sans  # type: ignore
    assert ("DNS", "example.test") in sans  # type: ignore
    assert ("IP Address", "127.0.0.1") in sans  # type: ignore
    assert any(kind == "IP Address" and value.rstrip("\n") in {"0:0:0:0:0:0:0:1", "::1"}
               for kind, value in sans)  # type: ignore  # fmt: skip


@pytest.mark.parametrize("days", [1, 7, 14])
def test_validity_span(days: int, tmp_path: Path) -> None:
    cert, _ = wt.generate_self_signed(["localhost"], validity_days=days)
    info = decode(cert, tmp_path)
    not_before, not_after = when(info["notBefore"]), when(info["notAfter"])
    assert not_after - not_before == dt.timedelta(days=days)
    now = dt.datetime.now(dt.UTC)
    assert not_before <= now <= not_after
    assert now - not_before < dt.timedelta(hours=1)  # back-dated a little, not a lot


def test_default_validity_is_14_days(tmp_path: Path) -> None:
    cert, _ = wt.generate_self_signed(["localhost"])
    info = decode(cert, tmp_path)
    assert when(info["notAfter"]) - when(info["notBefore"]) == dt.timedelta(days=14)


#: DER of the PKCS#8 AlgorithmIdentifier for an EC key on P-256: SEQUENCE { OID
#: id-ecPublicKey (1.2.840.10045.2.1), OID prime256v1 (1.2.840.10045.3.1.7) } (RFC 5480).
EC_P256_ALGORITHM = bytes.fromhex("301306072a8648ce3d020106082a8648ce3d030107")
#: DER of OID ecdsa-with-SHA256 (1.2.840.10045.4.3.2, RFC 5758).
ECDSA_WITH_SHA256 = bytes.fromhex("06082a8648ce3d040302")


def test_key_is_pkcs8_p256(tmp_path: Path) -> None:
    cert, key = wt.generate_self_signed(["localhost"])
    # PKCS#8 (RFC 5208): SEQUENCE { INTEGER 0, AlgorithmIdentifier, OCTET STRING }.
    assert key[0] == 0x30
    version = key.index(b"\x02\x01\x00")
    assert key[version + 3 :].startswith(EC_P256_ALGORITHM)
    assert ECDSA_WITH_SHA256 in cert
    # CPython's ssl module (its own OpenSSL, no command-line tool) accepts the pair: the
    # key is a PKCS#8 "PRIVATE KEY" matching the certificate.
    (tmp_path / "cert.pem").write_text(ssl.DER_cert_to_PEM_cert(cert))
    body = base64.encodebytes(key).decode("ascii")
    (tmp_path / "key.pem").write_text(
        f"-----BEGIN PRIVATE KEY-----\n{body}-----END PRIVATE KEY-----\n"
    )
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(
        tmp_path / "cert.pem", tmp_path / "key.pem"
    )


def test_every_call_makes_a_new_key() -> None:
    a = wt.generate_self_signed(["localhost"])
    b = wt.generate_self_signed(["localhost"])
    assert a[1] != b[1]
    assert wt.certificate_hash(a[0]) != wt.certificate_hash(b[0])


@pytest.mark.parametrize("days", [0, 15, -1, 365])
def test_validity_days_out_of_range(days: int) -> None:
    with pytest.raises(ValueError, match="validity_days"):
        wt.generate_self_signed(["localhost"], validity_days=days)


def test_generate_argument_errors() -> None:
    with pytest.raises(ValueError, match="subject_alt_names"):
        wt.generate_self_signed([])
    with pytest.raises(TypeError):
        wt.generate_self_signed("localhost")  # type: ignore
    with pytest.raises(TypeError):
        wt.generate_self_signed([1])  # type: ignore
    with pytest.raises(TypeError):
        wt.generate_self_signed(["localhost"], 5)  # type: ignore
    with pytest.raises(TypeError):
        wt.generate_self_signed(["localhost"], validity_days="5")  # type: ignore


def test_certificate_hash_is_sha256_of_der() -> None:
    cert, _ = wt.generate_self_signed(["localhost"])
    digest = wt.certificate_hash(cert)
    assert isinstance(digest, bytes)
    assert len(digest) == 32
    assert digest == hashlib.sha256(cert).digest()
    assert wt.certificate_hash(ssl.DER_cert_to_PEM_cert(cert)) == digest


def test_certificate_hash_of_a_chain_is_the_leaf() -> None:
    leaf, _ = wt.generate_self_signed(["leaf"])
    other, _ = wt.generate_self_signed(["other"])
    pem_chain = ssl.DER_cert_to_PEM_cert(leaf) + ssl.DER_cert_to_PEM_cert(other)
    assert wt.certificate_hash(pem_chain) == hashlib.sha256(leaf).digest()
    as_list: Any = [leaf, other]
    assert wt.certificate_hash(as_list) == hashlib.sha256(leaf).digest()
