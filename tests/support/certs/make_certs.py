"""Regenerate the certificates and keys next to this file (run once; the outputs are committed).

    uv run --no-project --with cryptography python -m tests.support.certs.make_certs

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

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support.certs import DIR as HERE
from tests.support.certs.build import certificate, key_pem, pem


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
