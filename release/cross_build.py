"""The aarch64 abi3 wheel, cross-built on this x86_64 machine in the sid amd64 root.

No rustup download is possible here, so Debian sid's ``rustc``/``cargo`` with
``libstd-rust-dev:arm64`` build it, with the pinned maturin and ``--zig`` (PyPI's
``ziglang``) targeting glibc 2.28 as the release does (docs/releasing.md says why Debian's
rustc is acceptable for a rehearsal). The checkout is mounted read-only; Cargo's home and
target directory stay in the cache, so a second run recompiles only what changed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from release import build_settings, sid_root
from release.console import detail, step
from release.errors import ReleaseError
from release.project import Project

#: The Rust target of the wheel.
RUST_TARGET = "aarch64-unknown-linux-gnu"

#: Bound on the cross build (cold: Debian's rustc compiles every dependency for aarch64).
BUILD_TIMEOUT = 3600


def build(project: Project, out: Path) -> Path:
    """Cross-build the aarch64 wheel into ``out``; return it. Raises on failure."""
    root = sid_root.AMD64
    root.ensure()
    bindir = f"{sid_root.TOOLS}/bin"
    cache = sid_root.cache_dir()
    cargo_home, target_dir = cache / "cargo-home", cache / "target-aarch64"
    if out.exists():
        shutil.rmtree(out)
    for directory in (cargo_home, target_dir, out):
        directory.mkdir(parents=True, exist_ok=True)
    step(f"cross-build the {RUST_TARGET} wheel with Debian's rustc (cold: several minutes)")
    root.run(
        [
            "nice", f"{bindir}/maturin", "build", *build_settings.MATURIN_BUILD_ARGS,
            "--target", RUST_TARGET, "--zig", "--compatibility", "manylinux_2_28",
            "--manifest-path", str(project.root / "Cargo.toml"), "--out", str(out),
        ],
        binds={project.root: True, cache: False, out: False},
        env={
            "PATH": f"{bindir}:/usr/bin:/bin",
            "CARGO_HOME": str(cargo_home),
            "CARGO_TARGET_DIR": str(target_dir),
            "CARGO_TERM_PROGRESS_WHEN": "never",
        },
        timeout=BUILD_TIMEOUT,
    )  # fmt: skip
    wheels = sorted(out.glob("*aarch64*.whl"))
    if len(wheels) != 1:
        raise ReleaseError(f"expected one aarch64 wheel in {out}, found {wheels}")
    detail(f"built {wheels[0].name}")
    return wheels[0]
