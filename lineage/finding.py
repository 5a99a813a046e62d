"""A finding: which check found it, how bad, where, why, the evidence and the fix.

The record every check returns (`lineage.findings`, `lineage.record_findings`) and the what-if
comparisons match by `id`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}

@dataclass(frozen=True)
class Finding:
    """One problem: which check found it, how bad, where (a flow or a node), and the fix."""

    rule: str
    severity: Severity
    title: str
    message: str
    fix: str
    flow: str | None = None
    node: str | None = None
    regime: str | None = None
    evidence: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """Stable across runs: the same problem keeps its id (what-if compares by it)."""
        key = "|".join([self.rule, self.flow or "", self.node or "", self.regime or ""])
        return hashlib.sha256(key.encode()).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "rule": self.rule, "severity": self.severity.value, "title": self.title,
            "message": self.message, "fix": self.fix, "flow": self.flow, "node": self.node,
            "regime": self.regime, "evidence": list(self.evidence),
        }
