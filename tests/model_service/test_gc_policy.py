"""After start-up the collector leaves the start-up objects alone and collects young garbage less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from model_service import gc_policy


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restore_gc")
def test_settle_freezes_what_start_up_left_and_raises_the_thresholds() -> None:
    gc.unfreeze()
    long_lived = [object() for _ in range(10)]  # stands in for the imported libraries and the loaded model
    gc_policy.settle_after_startup()
    assert gc.get_freeze_count() > len(long_lived)
    assert gc.get_threshold() == (gc_policy.GEN0_THRESHOLD, gc_policy.GEN1_THRESHOLD, gc_policy.GEN2_THRESHOLD)


@pytest.mark.usefixtures("restore_gc")
def test_cycles_made_after_start_up_are_still_collected() -> None:
    gc_policy.settle_after_startup()

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # type: ignore[attr-defined]
    del a, b
    assert gc.collect() >= 2
