"""Which request bodies the lab's JSON endpoints accept, decided in one place (issue 14, item 9b).

A body sent as ``text/plain`` (or a form, or XML) used to be parsed as JSON anyway: a client that
mislabels its payload got predictions, and the mislabelling only surfaced when some proxy or a stricter
server refused it. Now such a request gets a 415 naming the expected type.

Accepted, as FastAPI itself decides for a JSON body (``fastapi.routing``): ``application/json`` and any
``application/*+json``, with parameters (``; charset=utf-8``), any case. A request *without* a
Content-Type is accepted too: FastAPI reads such a body as JSON, and so do the lab's own clients that
post raw bytes; a missing label is not a wrong one.
"""

from __future__ import annotations

from collections.abc import Iterable

EXPECTED = "application/json"
_HEADER = b"content-type"


def is_json(value: str | bytes | None) -> bool:
    """Does this Content-Type value (None: no header) announce a JSON body?"""
    if value is None:
        return True
    if isinstance(value, bytes):
        if value == b"application/json":  # the hot path: what every lab client sends
            return True
        value = value.decode("latin-1")
    media = value.split(";", 1)[0].strip().lower()
    if not media:
        return True
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def header_value(headers: Iterable[tuple[bytes, bytes]]) -> bytes | None:
    """The Content-Type of an ASGI scope's raw headers (names arrive lower-cased), None without one."""
    for name, value in headers:
        if name == _HEADER:
            return value
    return None


def problem(value: str | bytes | None) -> str | None:
    """None when the body may be parsed as JSON, else the message a 415 answer carries."""
    if is_json(value):
        return None
    shown = value.decode("latin-1") if isinstance(value, bytes) else value
    return (f"content-type: this endpoint reads JSON; send the body with 'Content-Type: {EXPECTED}' "
            f"(got {shown!r})")
