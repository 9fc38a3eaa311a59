"""Reading the registry's files, and saying exactly which one is damaged and how.

Every reader of the registry goes through these, so a truncated pointer, a card that is not JSON or an
artifact whose bytes changed is reported as *that file* being corrupt -- never as a bare ``JSONDecodeError``
or as "no model is active" (issue 14). Standard library only: ``aiops-lab model list`` checks every version
with them and must not import the machine-learning stack.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
import zlib
from pathlib import Path

from model_service.model_card import ModelCard

VERSION_RE = re.compile(r"^v(\d+)$")
POINTER, HISTORY, ARTIFACT, CARD = "active.json", "deployments.jsonl", "model.skops", "card.json"


class DamagedFile(Exception):
    """A registry file is missing or unreadable; the message names it."""


def reason(exc: BaseException) -> str:
    """An exception as one short line: its type and message."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:200]


def artifact_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DamagedFile(f"{path} is missing") from None
    except OSError as exc:
        raise DamagedFile(f"{path} cannot be read ({reason(exc)})") from None


def read_card(path: Path) -> ModelCard:
    data = read(path)
    try:
        return ModelCard.model_validate_json(data)
    except ValueError as exc:  # pydantic's ValidationError, invalid JSON included
        raise DamagedFile(f"{path} is corrupt ({reason(exc)})") from None


def zip_problem(data: bytes) -> str | None:
    """Why ``data`` is not an intact zip archive (the skops format, every member's CRC checked), or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as exc:
        return f"not a readable zip archive: truncated or overwritten; {reason(exc)}"
    if bad is not None:
        return f"member {bad} fails its CRC check: its bytes changed after it was written"
    return None


def digest_problem(data: bytes, card: ModelCard) -> str | None:
    """A mismatch with the sha256 the card recorded at registration (cards older than the field have none)."""
    if card.artifact_sha256 and artifact_digest(data) != card.artifact_sha256:
        return "its sha256 is not the one recorded in the card at registration: the file changed since"
    return None


def parse_pointer(raw: bytes) -> str:
    """The version an ``active.json`` names; ``ValueError`` saying what is wrong with it."""
    if not raw.strip():
        raise ValueError("the file is empty")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, str) or not VERSION_RE.match(version):
        raise ValueError(f'no valid "version" field (found {version!r})')
    return version
