"""Under ``CI=true`` a rehearsal part that could not run fails instead of skipping."""

from __future__ import annotations

import pytest


def test_a_skipped_rehearsal_part_fails_only_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from release.errors import ReleaseError
    from release.local_matrix import Outcome
    from release.rehearse import fail_skips_under_ci

    outcomes = [
        Outcome("host", "passed"),
        Outcome("CPython 3.14 x86_64 (sid root)", "SKIPPED", "debootstrap is not installed"),
    ]
    monkeypatch.setenv("CI", "false")
    fail_skips_under_ci(outcomes)  # outside CI a skip stays a skip (printed in the summary)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(ReleaseError, match=r"CPython 3\.14 .*debootstrap is not installed"):
        fail_skips_under_ci(outcomes)
