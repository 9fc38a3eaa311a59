"""Option choices read from a heavy module only when click needs them (parsing, ``--help``, completion).

Click builds every command of a noun when the noun is imported, so a ``click.Choice(SCENARIOS)`` on
``model train`` made ``model list`` import the data generator (numpy, pandas: 0.5 s here, seconds on a
learner's laptop) just to list JSON files. The names still come from their one source of truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import click


class LazyChoice(click.Choice):  # type: ignore[type-arg]
    """A ``click.Choice`` whose names are ``names()``, called the first time click asks for them."""

    def __init__(self, names: Callable[[], Iterable[str]], case_sensitive: bool = True) -> None:
        # click.Choice.__init__ would materialise the names now; keep only what it would set besides them.
        self._names = names
        self._loaded: tuple[str, ...] | None = None
        self.case_sensitive = case_sensitive

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        if self._loaded is None:
            self._loaded = tuple(self._names())
        return self._loaded


def scenario_names() -> list[str]:
    """The generator's data scenarios (``--scenario``, ``--data``)."""
    from model_service.scenarios import SCENARIOS

    return list(SCENARIOS)


def corruption_names() -> list[str]:
    """The deliberate defects ``model train --bad`` can build into a candidate."""
    from model_service.corruptions import CORRUPTIONS

    return sorted(CORRUPTIONS)
