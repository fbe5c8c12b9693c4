"""Certificates made with ``cryptography`` (see the package's documentation)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOT_BEFORE = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
NOT_AFTER = NOT_BEFORE + dt.timedelta(days=50 * 365)

Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def certificate(
    subject: str,
    key: Key,
    *,
    issuer: tuple[x509.Certificate, Key] | None = None,
    ca: bool = False,
    not_before: dt.datetime = NOT_BEFORE,
    not_after: dt.datetime = NOT_AFTER,
) -> x509.Certificate:
    """A certificate for ``subject`` (self-signed unless ``issuer`` is given); a leaf
    (not ``ca``) is for 127.0.0.1/localhost and server authentication."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, signer = (issuer[0].subject, issuer[1]) if issuer else (name, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=not ca, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
            encipher_only=False, decipher_only=False,
        ),
        critical=True,
    )  # fmt: skip
    return builder.sign(signer, hashes.SHA256())


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: Key, form: serialization.PrivateFormat) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, form, serialization.NoEncryption())


DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Made:
    cert_der: bytes
    key_der: bytes  # PKCS#8

    @property
    def cert_pem(self) -> bytes:
        return x509.load_der_x509_certificate(self.cert_der).public_bytes(
            serialization.Encoding.PEM
        )

    @property
    def key_pem(self) -> bytes:
        key = serialization.load_der_private_key(self.key_der, None)
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def make_cert(not_before: dt.datetime, not_after: dt.datetime) -> Made:
    """A self-signed ECDSA P-256 leaf for localhost/127.0.0.1 with the given validity."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate("reliability test", key, not_before=not_before, not_after=not_after)
    return Made(
        cert.public_bytes(serialization.Encoding.DER),
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@cache
def expired() -> Made:
    """Valid for 5 days, ended yesterday."""
    return make_cert(now() - 6 * DAY, now() - DAY)


@cache
def not_yet_valid() -> Made:
    """Valid for 5 days from tomorrow."""
    return make_cert(now() + DAY, now() + 6 * DAY)


@cache
def too_long() -> Made:
    """Currently valid, but for 30 days (browsers refuse hashes of these)."""
    return make_cert(now() - DAY, now() + 29 * DAY)


@cache
def fourteen_days() -> Made:
    """Currently valid for exactly 14 days: the longest browsers accept."""
    start = now() - dt.timedelta(hours=1)
    return make_cert(start, start + 14 * DAY)


@cache
def other_key() -> bytes:
    """A PKCS#8 key that matches no certificate here."""
    return make_cert(now() - DAY, now() + DAY).key_der
