"""Atomic file writes: a reader (or a crash) never sees half a file.

Written to a temporary file in the same directory (so ``os.replace`` is a rename, atomic on POSIX), fsynced
when the content is a record worth surviving a power cut (registry pointers, drill journals), then renamed
over the target. The temporary name carries the pid, so two processes writing one file never share it.
"""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: Path, data: str | bytes, *, fsync: bool = False) -> None:
    """Replace ``path`` with ``data`` in one step, creating its directory if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        with tmp.open(mode) as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
