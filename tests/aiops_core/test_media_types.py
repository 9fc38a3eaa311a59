"""Which Content-Types the JSON endpoints accept (the service's 415 table is in
tests/model_service/integration/test_bad_inputs.py)."""

from __future__ import annotations

import pytest

from aiops_core import media_types


@pytest.mark.parametrize("value", [None, "", b"application/json", "application/json; charset=utf-8",
                                   "APPLICATION/JSON", "application/problem+json", b"application/vnd.x+json"])
def test_json_and_unlabelled_bodies_pass(value: str | bytes | None) -> None:
    assert media_types.problem(value) is None


@pytest.mark.parametrize("value", ["text/plain", b"text/plain; charset=utf-8", "application/x-www-form-urlencoded",
                                   "application/xml", "text/json", "application/jsonx", "multipart/form-data"])
def test_other_types_are_refused_naming_the_expected_one(value: str | bytes) -> None:
    message = media_types.problem(value)
    assert message is not None and "Content-Type: application/json" in message
    shown = value.decode() if isinstance(value, bytes) else value
    assert shown in message


def test_the_header_is_found_among_raw_asgi_headers() -> None:
    headers = [(b"host", b"x"), (b"content-type", b"text/plain")]
    assert media_types.header_value(headers) == b"text/plain"
    assert media_types.header_value([(b"host", b"x")]) is None
