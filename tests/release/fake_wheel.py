"""A tiny pure-Python stand-in for the real wheel, for testing the install-and-test path
without a Rust build."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_fake_wheel(
    directory: Path,
    version: str,
    tag: str = "py3-none-any",
    generator: str = "maturin (1.16.0)",
    extra: dict[str, bytes] | None = None,
) -> Path:
    """Write ``web_transport_python-<version>-<tag>.whl`` into ``directory`` and return it."""
    info = f"web_transport_python-{version}.dist-info"
    files = {
        "web_transport/__init__.py": b"from web_transport._web_transport import __version__\n",
        "web_transport/_web_transport.py": f'__version__ = "{version}"\n'.encode(),
        "web_transport/py.typed": b"",
        f"{info}/METADATA": (
            f"Metadata-Version: 2.4\nName: web-transport-python\nVersion: {version}\n"
            "Requires-Python: >=3.12\n"
        ).encode(),
        f"{info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: {generator}\nRoot-Is-Purelib: false\nTag: {tag}\n"
        ).encode(),
        **(extra or {}),
    }
    record = [_record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = directory / f"web_transport_python-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path
