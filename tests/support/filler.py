"""Unit tests fill the pauses a heavy pool job imposes on the rest of the session.

A heavy job of the drill pool (a traffic surge that must saturate a core, a capacity measurement) holds the
pool's CPU gate alone for a minute or two, and every process-starting test waits for it
(``tests/conftest.py``: ``pytest_runtest_protocol``). Measured on a quiet 2-core machine, the session spent
~185 s of its 12.7 min in those pauses. Moving every unit test to the front of the session did not help
(13.3 min against 11: the process tests then all met the pool at its busiest), so the order stays as
collected, except at one moment: when the next test module starts processes and a heavy job holds or waits for
the gate, a later module that starts none runs first. Whole modules only, so module- and class-scoped
fixtures are set up once, as in the collected order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest


def module_groups(items: list[pytest.Item]) -> list[list[pytest.Item]]:
    """Consecutive items of the same module, in collected order."""
    groups: list[list[pytest.Item]] = []
    for item in items:
        if groups and groups[-1][0].nodeid.split("::")[0] == item.nodeid.split("::")[0]:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def ordered(items: list[pytest.Item], needs_gate: Callable[[pytest.Item], bool],
            may_fill: Callable[[pytest.Item], bool], heavy_active: Callable[[], bool]) -> Iterator[pytest.Item]:
    """Yield ``items``, each module whole; at a module boundary where the next module ``needs_gate`` while
    ``heavy_active()``, a later module whose every item ``may_fill`` goes first. Decided lazily, item by item,
    so the caller can ask for the next item just before it runs the current one (pytest needs ``nextitem``)."""
    pending = module_groups(items)
    while pending:
        if any(needs_gate(i) for i in pending[0]) and heavy_active():
            filler = next((k for k, group in enumerate(pending) if all(may_fill(i) for i in group)), None)
            if filler is not None:
                pending.insert(0, pending.pop(filler))
        group = pending.pop(0)
        yield from group


def run_loop(session: pytest.Session, needs_gate: Callable[[pytest.Item], bool],
             may_fill: Callable[[pytest.Item], bool], heavy_active: Callable[[], bool]) -> bool:
    """pytest's own ``runtestloop`` with the order above (same stop and fail handling)."""
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        raise session.Interrupted(f"{session.testsfailed} error{'s' if session.testsfailed != 1 else ''} "
                                  "during collection")
    if session.config.option.collectonly:
        return True
    order = ordered(session.items, needs_gate, may_fill, heavy_active)
    nextitem = next(order, None)
    while nextitem is not None:
        item = nextitem
        nextitem = next(order, None)
        item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
        if session.shouldfail:
            raise session.Failed(session.shouldfail)
        if session.shouldstop:
            raise session.Interrupted(session.shouldstop)
    return True
