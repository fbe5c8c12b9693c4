"""The test suites' one certificate set.

- Files next to this module (``DIR``), made once by ``make_certs.py`` and committed, valid
  from 2026-11-25 for 50 years: a CA, a chain, RSA and SEC1/PKCS#1/PKCS#8 keys, a leaf
  valid too long for certificate-hash pinning (see ``make_certs.py``).
- ``build.py``: the certificate builder ``make_certs.py`` uses, and certificates made
  per run (with ``cryptography``) for what must be relative to today: expired, not yet
  valid, valid for too long or for exactly 14 days, and a key that matches no
  certificate. Importing this package alone needs no ``cryptography``.

Certificates the binding can make itself come from ``web_transport.generate_self_signed``
(``tests/conftest.py``), which is what those tests check.
"""

from __future__ import annotations

from pathlib import Path

#: The committed certificate files.
DIR = Path(__file__).resolve().parent
