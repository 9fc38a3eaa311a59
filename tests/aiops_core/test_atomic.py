"""``atomic_write``: the target is replaced whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops_core.atomic import atomic_write


def test_writes_text_and_bytes_creating_the_directory(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "active.json"
    atomic_write(target, '{"version": "v1"}', fsync=True)
    assert target.read_text() == '{"version": "v1"}'
    atomic_write(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert [p.name for p in target.parent.iterdir()] == ["active.json"]  # no temporary file left behind


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "journal.json"
    target.write_text("complete")

    with pytest.raises(TypeError):
        atomic_write(target, 12345)  # type: ignore[arg-type]
    assert target.read_text() == "complete"
    assert [p.name for p in tmp_path.iterdir()] == ["journal.json"]
