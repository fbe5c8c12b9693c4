"""Debian sid root file systems, made with ``debootstrap`` and cached outside the checkout.

The local release matrix needs what this machine lacks (CPython 3.14 and 3.15, Rust's aarch64
standard library with a cross C toolchain, an arm64 system to test in); Debian's registry
serves each as sid packages, so each is a root made once and kept in :func:`cache_dir`
(rebuilt when its package list changes). :meth:`SidRoot.run` enters a root with ``unshare
--mount`` + ``chroot``, so its mounts vanish with the command; the network is the host's.
sid's ``Release`` is past ``Valid-Until`` (apt is told to accept it) and a fresh root has no
CA bundle (the host's is copied in). An arm64 root runs under qemu-user, registered with
binfmt_misc by :func:`register_qemu`. Everything needs root: :func:`unavailable` says why a
root cannot be used, so a caller reports the part SKIPPED.
"""

from __future__ import annotations

import os
import platform
import shlex
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from release.build_settings import MATURIN_VERSION, UV_VERSION, ZIGLANG_VERSION
from release.console import detail, step
from release.errors import ReleaseError
from release.process import display, run

MIRROR, SUITE = "http://deb.debian.org/debian", "sid"
APT_OPTIONS = ("-o", "Acquire::Check-Valid-Until=false", "-o", "APT::Install-Recommends=false")
#: Bound on one debootstrap or one apt-get run, in seconds.
DEBOOTSTRAP_TIMEOUT = 1800
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
#: The venv of PyPI tools inside each root (uv linked into /usr/local/bin), and its Python.
TOOLS, TOOLS_PYTHON = "/opt/web-transport-release-tools", "python3.14"
UV_REQUIREMENT = f"uv=={UV_VERSION}"
BINFMT = Path("/proc/sys/fs/binfmt_misc")
QEMU_BINFMT_CONF = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")


def cache_dir() -> Path:
    """Where roots (and the cross build's Cargo home) are kept, outside any checkout."""
    configured = os.environ.get("WEB_TRANSPORT_RELEASE_CACHE")
    base = Path(configured) if configured else Path.home() / ".cache" / "web-transport-release"
    return base.resolve()


def _host_arch() -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def unavailable(arch: str) -> str | None:
    """Why a root of ``arch`` cannot be made or entered here, or None when it can."""
    if os.name != "posix" or platform.system() != "Linux":
        return "needs Linux"
    if os.geteuid() != 0:
        return "needs root (debootstrap, chroot and mounts)"
    for tool in ("debootstrap", "unshare", "chroot", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install debootstrap util-linux)"
    if arch != _host_arch():
        return register_qemu()
    return None


def register_qemu() -> str | None:
    """Make aarch64 binaries run under qemu-user; None on success, else the reason."""
    entry = BINFMT / "qemu-aarch64"
    if not (BINFMT / "register").exists():
        try:
            run(["mount", "-t", "binfmt_misc", "binfmt_misc", BINFMT], timeout=30)
        except ReleaseError as exc:
            return f"binfmt_misc cannot be mounted ({exc})"
    if entry.exists():
        return None if "enabled" in entry.read_text() else f"{entry} is disabled"
    if not QEMU_BINFMT_CONF.is_file():
        return "qemu-user-static is not installed (apt-get install qemu-user-static)"
    line = QEMU_BINFMT_CONF.read_text().strip()
    detail(f"registering {QEMU_BINFMT_CONF} with binfmt_misc")
    try:
        (BINFMT / "register").write_text(line)
    except OSError as exc:
        return f"binfmt_misc refused the qemu-aarch64 entry ({exc})"
    return None


class SidRoot:
    """One cached sid root file system of one architecture with a fixed package list."""

    def __init__(self, name: str, arch: str, packages: Sequence[str], tools: Sequence[str],
                 foreign: Sequence[str] = ()):  # fmt: skip
        """``tools``: PyPI requirements for :data:`TOOLS`; ``foreign``: extra dpkg arches."""
        self.name, self.arch = name, arch
        self.packages, self.tools, self.foreign = tuple(packages), tuple(tools), tuple(foreign)
        self.path = cache_dir() / name
        self._stamp = self.path / ".web-transport-release"

    def _wanted(self) -> str:
        packages, tools = " ".join(self.packages), " ".join(self.tools)
        return f"{SUITE} {self.arch} +{','.join(self.foreign)} {packages} | {tools}\n"

    def ready(self) -> bool:
        """Whether the cached root exists with this package list."""
        return self._stamp.is_file() and self._stamp.read_text() == self._wanted()

    def ensure(self) -> None:
        """Make the root unless a complete one with the same packages is cached."""
        reason = unavailable(self.arch)
        if reason:
            raise ReleaseError(reason)
        if self.ready():
            detail(f"cached {self.name} root: {self.path}")
            self._refresh_ca()
            return
        started = time.monotonic()
        if self.path.exists():
            detail(f"removing incomplete or outdated root {self.path}")
            shutil.rmtree(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        step(f"debootstrap {SUITE} ({self.arch}) into {self.path} (a few minutes, once)")
        run(
            ["nice", "debootstrap", "--variant=minbase", f"--arch={self.arch}", SUITE,
             self.path, MIRROR],
            timeout=DEBOOTSTRAP_TIMEOUT,
        )  # fmt: skip
        self._refresh_ca()
        for arch in self.foreign:
            self.run(["dpkg", "--add-architecture", arch])
        step(f"apt-get install in the {self.name} root: {' '.join(self.packages)}")
        self.run(["apt-get", *APT_OPTIONS, "update", "-q"], timeout=DEBOOTSTRAP_TIMEOUT)
        self.run(
            ["nice", "apt-get", *APT_OPTIONS, "install", "-y", "-q", *self.packages],
            env={"DEBIAN_FRONTEND": "noninteractive"},
            timeout=DEBOOTSTRAP_TIMEOUT,
        )
        self.run(["apt-get", "clean"])
        self._refresh_ca()
        step(f"install {' '.join(self.tools)} from PyPI into {TOOLS} in the {self.name} root")
        self.run([TOOLS_PYTHON, "-m", "venv", TOOLS], timeout=DEBOOTSTRAP_TIMEOUT)
        self.run(
            [f"{TOOLS}/bin/python", "-m", "pip", "install", "--quiet", *self.tools],
            env={"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_ROOT_USER_ACTION": "ignore"},
            timeout=DEBOOTSTRAP_TIMEOUT,
        )
        self.run(["ln", "-sf", f"{TOOLS}/bin/uv", "/usr/local/bin/uv"])
        self._stamp.write_text(self._wanted())
        detail(f"{self.name} root made in {(time.monotonic() - started) / 60:.1f} min")

    def _refresh_ca(self) -> None:
        if CA_BUNDLE.is_file():
            target = self.path / CA_BUNDLE.relative_to("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink():
                target.unlink()
            shutil.copyfile(CA_BUNDLE, target)

    def run(
        self,
        cmd: Sequence[str | os.PathLike[str]],
        *,
        binds: Mapping[Path, bool] | None = None,
        cwd: str = "/",
        env: Mapping[str, str] | None = None,
        timeout: float = 600,
    ) -> None:
        """Run ``cmd`` in the root; ``binds`` maps host directories (mounted at the same path
        inside) to read-only flags. Raises :class:`ReleaseError` on failure or timeout."""
        root = str(self.path)
        script = [
            "set -e",
            f'mount -t proc proc "{root}/proc"',
            f'mount --rbind /sys "{root}/sys"',
            f'mount --rbind /dev "{root}/dev"',
        ]
        for host, read_only in (binds or {}).items():
            inside = f"{root}{host.resolve()}"
            script.append(f'mkdir -p "{inside}" && mount --bind "{host.resolve()}" "{inside}"')
            if read_only:
                script.append(f'mount -o remount,bind,ro "{inside}"')
        # uv trusts its built-in roots unless told; this network needs the host's CAs.
        path = "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        variables = {"HOME": "/root", "LANG": "C.UTF-8", "SSL_CERT_FILE": str(CA_BUNDLE),
                     "PATH": path, **(env or {})}  # fmt: skip
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in variables.items())
        script.append(
            f'exec chroot "{root}" /usr/bin/env -i {exports} '
            f"/bin/sh -c {shlex.quote(f'cd {shlex.quote(cwd)} && exec {display(cmd)}')}"
        )
        detail(f"[{self.name}] $ {display(cmd)}")
        unshare = ["unshare", "--mount", "--propagation", "private", "sh", "-c"]
        run([*unshare, "\n".join(script)], timeout=timeout, echo=False)


#: The amd64 root: CPython 3.14 and 3.15 for the x86_64 wheel, and Debian's Rust toolchain
#: with the arm64 standard library and a cross gcc for the aarch64 wheel. ``gcc`` is there
#: for test dependencies that have no wheel for a new CPython yet.
AMD64 = SidRoot(
    "sid-amd64",
    "amd64",
    [
        "python3.14", "python3.14-venv", "python3.15", "python3.15-venv", "gcc", "libc6-dev",
        "rustc", "cargo", "libstd-rust-dev:arm64", "gcc-aarch64-linux-gnu",
        "libc6-dev-arm64-cross",
    ],
    tools=[UV_REQUIREMENT, f"maturin=={MATURIN_VERSION}", f"ziglang=={ZIGLANG_VERSION}"],
    foreign=["arm64"],
)  # fmt: skip

#: The arm64 root the aarch64 wheel is tested in, under qemu-user.
ARM64 = SidRoot(
    "sid-arm64", "arm64", ["python3.14", "python3.14-venv", "gcc", "libc6-dev"], [UV_REQUIREMENT]
)
