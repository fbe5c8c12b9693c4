"""Certificates the binding cannot generate itself (with ``cryptography``): expired,
not yet valid, valid for too long, RSA, and keys that do not match."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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
    """A self-signed ECDSA P-256 certificate for localhost/127.0.0.1 with the given
    validity."""
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "reliability test")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
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
