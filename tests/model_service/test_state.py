"""Prediction ids: unique within a process (single ids and batches share one counter) and across restarts."""

from __future__ import annotations

import re

from model_service.state import IdGenerator


def test_ids_from_single_calls_and_batches_never_repeat() -> None:
    ids = IdGenerator()
    seen = [ids.next(), *ids.take(100), ids.next(), *ids.take(1), *ids.take(0)]
    assert len(set(seen)) == len(seen) == 103
    assert all(re.fullmatch(r"p[0-9a-f]{10}-[0-9a-f]+", pid) for pid in seen)


def test_a_batch_gets_consecutive_ids_in_row_order() -> None:
    ids = IdGenerator()
    first = ids.next()
    batch = ids.take(20)
    counters = [int(pid.rsplit("-", 1)[1], 16) for pid in [first, *batch]]
    assert counters == list(range(counters[0], counters[0] + 21))


def test_two_processes_do_not_share_a_prefix() -> None:
    assert IdGenerator().next().split("-")[0] != IdGenerator().next().split("-")[0]


def test_ids_sort_in_the_order_they_were_made() -> None:
    """The log's ``id`` index only appends when they do (issue 18). With a counter from 1, "-10" sorted before
    "-9", and the writer dirtied index pages all over the file on every commit."""
    ids = IdGenerator()
    made = [ids.next(), *ids.take(300), ids.next()]
    made += ids.take(0x10000)  # counters from 1 would have crossed four digit boundaries by now
    assert made == sorted(made)
    assert all(re.fullmatch(r"p[0-9a-f]{10}-[0-9a-f]{8}", pid) for pid in made)
