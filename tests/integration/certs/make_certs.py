"""Regenerate the certificates and keys next to this file (run once; the outputs are committed).

    uv run --no-project --with cryptography python tests/integration/certs/make_certs.py

The test suite reads the files and needs neither this script's ``cryptography`` dependency
nor an ``openssl`` command (whose options differ between runners). Everything is valid from
2026-11-25 for 50 years, so no test depends on the day it runs:

- ``ca.pem``: a CA certificate (EC P-256);
- ``chain.pem``: a leaf for 127.0.0.1/localhost signed by the CA, then the CA;
  ``leaf.key`` its SEC1 ("EC PRIVATE KEY") key; ``leaf.der`` the leaf alone (DER);
- ``rsa.pem`` + ``rsa.key``: a leaf signed by the CA with an RSA-2048 PKCS#1
  ("RSA PRIVATE KEY") key;
- ``long.pem`` + ``long.key``: a self-signed leaf (PKCS#8 key), valid far longer than the
  14 days certificate-hash pinning accepts.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = Path(__file__).parent
NOT_BEFORE = datetime.datetime(2026, 11, 25, tzinfo=datetime.UTC)
NOT_AFTER = NOT_BEFORE + datetime.timedelta(days=50 * 365)

Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def certificate(
    subject: str, key: Key, *, issuer: tuple[x509.Certificate, Key] | None = None, ca: bool = False
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, signer = (issuer[0].subject, issuer[1]) if issuer else (name, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
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


def main() -> None:
    traditional = serialization.PrivateFormat.TraditionalOpenSSL  # SEC1 / PKCS#1
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate("web-transport-python test CA", ca_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = certificate("localhost", leaf_key, issuer=(ca, ca_key))
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_leaf = certificate("localhost", rsa_key, issuer=(ca, ca_key))
    long_key = ec.generate_private_key(ec.SECP256R1())
    files = {
        "ca.pem": pem(ca),
        "chain.pem": pem(leaf) + pem(ca),
        "leaf.key": key_pem(leaf_key, traditional),
        "leaf.der": leaf.public_bytes(serialization.Encoding.DER),
        "rsa.pem": pem(rsa_leaf),
        "rsa.key": key_pem(rsa_key, traditional),
        "long.pem": pem(certificate("localhost", long_key)),
        "long.key": key_pem(long_key, serialization.PrivateFormat.PKCS8),
    }
    for name, data in files.items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
