"""What a check is given: the module, the learner's workspace, their start time and seed, and a step list."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labs.curriculum import answers
from labs.curriculum.progress import ModuleProgress
from labs.curriculum.steps import Steps


@dataclass
class Context:
    module_id: str
    workspace: Path
    progress: ModuleProgress
    steps: Steps = field(default_factory=Steps)

    @property
    def started_at(self) -> float:
        return self.progress.started_at

    @property
    def seed(self) -> int:
        return self.progress.seed

    def file(self, name: str) -> Path:
        return self.workspace / name

    def answers(self, name: str) -> dict[str, Any]:
        """The YAML mapping in the workspace file ``name`` (``Fail`` on a missing or malformed file)."""
        return answers.load_yaml(self.file(name), step=f"read {name}")
