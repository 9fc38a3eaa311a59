"""Pass/fail limits for a load run: the failure ratio and the p99 latency a run may not exceed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    max_failure_ratio: float | None = None
    max_p99_ms: float | None = None

    def breaches(self, stats: dict[str, Any]) -> list[str]:
        """What ``stats`` (a summary entry: requests, failure_ratio, p99_ms) breaks, in words."""
        out: list[str] = []
        if self.max_failure_ratio is not None and stats["failure_ratio"] > self.max_failure_ratio:
            out.append(f"failure ratio {stats['failure_ratio']:.2%} > {self.max_failure_ratio:.2%}")
        if self.max_p99_ms is not None and stats["p99_ms"] > self.max_p99_ms:
            out.append(f"p99 {stats['p99_ms']:.0f} ms > {self.max_p99_ms:g} ms")
        return out
