"""The msgspec fast path accepts exactly what the pydantic models accept, with the same values.

The route trusts ``fast_body.decode`` whenever it accepts a body and asks pydantic only when it refuses one,
so a body msgspec accepted and pydantic would refuse would be served instead of answered with a 422. Each
body below goes through both; generated bodies mix valid values with the inputs a strict schema must
refuse: strings, booleans, floats for integers, NaN/Infinity tokens, overflowing and near-bound numbers,
missing, unknown, duplicated and escaped keys, records that are not objects, empty and oversized batches.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from model_service import fast_body, feature_lookup
from model_service.features import FEATURE_NAMES, FEATURES, FeatureSpec
from model_service.routes.predict import _is_batch
from model_service.schemas import PredictionRecord, batch_model

MAX_ROWS = 4
_BATCH = batch_model(MAX_ROWS)
_JUNK = ["true", "false", "null", "NaN", "-NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "-0",
         "-0.0", "0", "1", "2", "1.0", "2.0", "1E2", "01", "1.", ".5", '"1"', '"NaN"', "[]", "[1]", "{}",
         '{"a":1}', "10000000000000000000000000000", "-10000000000000000000000000000", "9223372036854775808",
         "18446744073709551616", "20000.000000000001", "20000.00000000001", "600.0000000000001", "200",
         "201", "-1", "10.000000000000001", "10.00000000000001", "1e1", "0.0000001e7"]


def _number_text(spec: FeatureSpec) -> st.SearchStrategy[str]:
    """Numbers as JSON text: valid ones, near and past the bounds, in the spellings JSON allows."""
    lo, hi = spec.minimum, spec.maximum
    if spec.kind == "int":
        return st.integers(int(lo) - 3, int(hi) + 3).map(str)
    return st.one_of(
        st.floats(lo, hi).map(repr),
        st.floats(lo - 1, hi + 1, allow_nan=False).map(lambda v: f"{v:.17e}"),
        st.integers(int(lo) - 2, int(hi) + 2).map(str),
        st.from_regex(r"-?(0|[1-9][0-9]{0,5})(\.[0-9]{1,25})?([eE][-+]?[0-9]{1,3})?", fullmatch=True),
    )


def _valid(spec: FeatureSpec) -> st.SearchStrategy[str]:
    if spec.kind == "int":
        return st.integers(int(spec.minimum), int(spec.maximum)).map(str)
    return st.one_of(st.floats(spec.minimum, spec.maximum).map(repr), st.integers(0, int(spec.maximum)).map(str))


@st.composite
def _value(draw: st.DrawFn, spec: FeatureSpec) -> str:
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return draw(st.sampled_from(_JUNK))
    if kind <= 2:
        return draw(_number_text(spec))
    return draw(_valid(spec))


_KEY_SPELLINGS = {name: [name, name, name, "\\u" + format(ord(name[0]), "04x") + name[1:]] for name in FEATURE_NAMES}


@st.composite
def _record(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from(["null", "[]", "1", '"x"', "[{}]", "true"]))
    pairs = []
    for spec in FEATURES:
        presence = draw(st.integers(0, 40))
        if presence == 0:
            continue  # missing
        key = draw(st.sampled_from(_KEY_SPELLINGS[spec.name]))
        pairs.append(f'"{key}":{draw(_value(spec))}')
        if presence == 1:  # the same key twice
            pairs.append(f'"{spec.name}":{draw(_value(spec))}')
    if draw(st.integers(0, 30)) == 0:
        pairs.append(f'"{draw(st.sampled_from(["tip_eur", "Distance_km", "instances", "", "distance_km "]))}":1')
    order = draw(st.permutations(range(len(pairs))))
    return "{" + ",".join(pairs[i] for i in order) + "}"


@st.composite
def _body(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(_record())
    records = draw(st.lists(_record(), min_size=0, max_size=MAX_ROWS + 1))
    parts = [f'"instances":[{",".join(records)}]']
    extra = draw(st.integers(0, 20))
    if extra == 0:
        parts.append('"model":"v2"')
    elif extra == 1:
        parts.insert(0, '"instances":[]')  # duplicated: the last one counts, for both
    elif extra == 2:
        parts = [f'"\\u0069nstances":[{",".join(records)}]']
    return "{" + ",".join(parts) + "}" + draw(st.sampled_from(["", "", "", "", "", " \n", "x", ",", "}"]))


def _pydantic(body: bytes) -> tuple[list[list[Any]], list[int]] | None:
    is_batch = _is_batch(body)
    try:
        parsed = (_BATCH if is_batch else PredictionRecord).model_validate_json(body)
    except ValidationError:
        return None
    records = parsed.instances if is_batch else (parsed,)
    rows = [list(r.__dict__.values()) for r in records]
    return rows, feature_lookup.omitted_rows(records, rows)


def _exact(result: tuple[list[list[Any]], list[int]] | None) -> Any:
    """Values with their types and exact float bits: 2 is not 2.0, and -0.0 is not 0.0."""
    if result is None:
        return None
    rows, omitted = result
    return [[(type(v).__name__, repr(v)) for v in row] for row in rows], omitted


def _has_duplicate_keys(body: bytes) -> bool:
    found = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        found = found or len({k for k, _ in items}) < len(items)
        return dict(items)

    json.loads(body, object_pairs_hook=pairs)
    return found


def _assert_same(text: str) -> None:
    """Same outcome and values; the one allowed difference is the safe one, and only for duplicated keys:
    pydantic validates the last of a key's values, msgspec every one of them, so msgspec may refuse a body
    that pydantic accepts -- the route then serves pydantic's result."""
    body = text.encode()
    expected = _exact(_pydantic(body))
    fast = _exact(fast_body.decode(body, _is_batch(body), MAX_ROWS))
    if fast is None and expected is not None:
        assert _has_duplicate_keys(body), text
        return
    assert fast == expected, text


def test_fast_path_accepts_exactly_what_pydantic_accepts() -> None:
    outcomes = {"accepted": 0, "refused": 0}

    @settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_body())
    def check(text: str) -> None:
        _assert_same(text)
        outcomes["refused" if _pydantic(text.encode()) is None else "accepted"] += 1

    check()
    # The property is only worth something if both of its sides occur often.
    assert outcomes["accepted"] >= 70 and outcomes["refused"] >= 70, outcomes


GOOD = {"distance_km": 3.5, "items_count": 2, "is_peak_hour": 1, "traffic_index": None,
        "courier_experience_months": 12}


@pytest.mark.parametrize("name", FEATURE_NAMES)
@pytest.mark.parametrize("token", _JUNK)
def test_each_junk_token_in_each_field(name: str, token: str) -> None:
    record = json.dumps(GOOD)[:-1] + f', "{name}": {token}}}'  # a duplicate key: the junk comes last
    _assert_same(record)
    _assert_same('{"instances": [' + record + "]}")


def test_omitted_and_null_are_told_apart() -> None:
    omitted = {k: v for k, v in GOOD.items() if k != feature_lookup.FEATURE}
    body = json.dumps({"instances": [GOOD, omitted, GOOD, omitted]}).encode()
    rows, missing = fast_body.decode(body, True, MAX_ROWS) or ([], [])
    assert missing == [1, 3]
    assert [row[feature_lookup.INDEX] for row in rows] == [None] * 4
    assert list(rows[0]) == [3.5, 2, 1, None, 12.0] and type(rows[0][4]) is float
    assert [type(row) for row in rows] == [tuple, list, tuple, list]  # the omitted rows can be filled in place
    rows, missing = fast_body.decode(json.dumps({"instances": [GOOD, GOOD]}).encode(), True, MAX_ROWS) or ([], [])
    assert missing == [] and len(rows) == 2
