"""The compliance rules, in the order MATURIN_COMPLIANCE.md lists them.

Each rule is a named check over the repository files (see :mod:`release.rules.base`). The
rule-breaking tests in ``tests/release`` break each rule in a temporary copy of the
repository and assert that it fails.
"""

from __future__ import annotations

from release.rules import (
    ci_sessions,
    contract_rule,
    docs_site,
    hygiene,
    linters,
    matrix,
    metadata,
    pins,
    pipeline,
)
from release.rules.base import Context, Rule

ALL_RULES: list[Rule] = [
    *contract_rule.RULES,
    *metadata.RULES,
    *matrix.RULES,
    *pipeline.RULES,
    *pins.RULES,
    *hygiene.RULES,
    *docs_site.RULES,
    *ci_sessions.RULES,
    *linters.RULES,
]

__all__ = ["ALL_RULES", "Context", "Rule"]
