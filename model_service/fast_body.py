"""The /predict body's fast path: decode and validate with msgspec, straight into the rows the route needs.

pydantic parses and validates a 100-row batch in ~110 µs, a fifth of the request's CPU (benchmarks/PROFILE.md);
msgspec does the same in a fraction of that. pydantic stays the one that *explains* a rejection: on any
msgspec failure the route validates the same bytes with pydantic (``schemas.py``), so a 4xx keeps its field
path, rule and message. That split is only sound if msgspec never accepts what pydantic rejects, and gives
the same values for what both accept: tests/model_service/test_fast_body.py checks that on generated bodies.

The msgspec types are derived from the feature schema (``features.py``), as the pydantic model is: same bounds,
strict types (``true`` is not a count, ``2.0`` is not an integer, a JSON integer is a valid float), unknown
fields refused, NaN/Infinity refused (msgspec's JSON has no such tokens, and bounds refuse an overflow), and a
looked-up feature may be omitted (``UNSET``), which is not the same as an explicit ``null``.

The one known difference is on the safe side: a key given twice counts with its last value for both, but
msgspec validates every value given and pydantic only the last, so msgspec refuses ``{"items_count": 0,
"items_count": 2, ...}`` and pydantic serves it -- which the route then does.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Sequence
from typing import Annotated, Any

import msgspec

from model_service.features import FEATURE_NAMES, FEATURES, FeatureSpec

Row = Sequence[Any]  # one value per feature, in FEATURE_NAMES order; None for a null


def _field(spec: FeatureSpec) -> tuple[Any, ...]:
    if spec.kind == "float":
        kind: Any = Annotated[float, msgspec.Meta(ge=float(spec.minimum), le=float(spec.maximum))]
    else:  # an integer meets a bound exactly when it meets the bound rounded inwards to an integer
        kind = Annotated[int, msgspec.Meta(ge=math.ceil(spec.minimum), le=math.floor(spec.maximum))]
    if spec.nullable:
        kind = kind | None
    if spec.lookup:
        return spec.name, kind | msgspec.UnsetType, msgspec.UNSET
    return spec.name, kind


_OPTIONS: dict[str, Any] = {"forbid_unknown_fields": True, "kw_only": True, "gc": False}
_Record = msgspec.defstruct("PredictionRecordFast", [_field(s) for s in FEATURES], **_OPTIONS)
_LOOKED_UP = next(i for i, s in enumerate(FEATURES) if s.lookup)  # one, as in feature_lookup
if _Record.__struct_fields__ != FEATURE_NAMES:  # astuple() below must give a row in FEATURE_NAMES order
    raise RuntimeError(f"fast-path record fields {_Record.__struct_fields__} are not {FEATURE_NAMES}")
_astuple = msgspec.structs.astuple
_looked_up = operator.itemgetter(_LOOKED_UP)
_RECORD = msgspec.json.Decoder(_Record)


@functools.lru_cache(maxsize=8)
def _batch_decoder(max_rows: int) -> msgspec.json.Decoder:
    batch = msgspec.defstruct(
        "PredictionBatchFast",
        [("instances", Annotated[list[_Record], msgspec.Meta(min_length=1, max_length=max_rows)])],  # type: ignore[valid-type]
        forbid_unknown_fields=True, gc=False)
    return msgspec.json.Decoder(batch)


def decode(body: bytes, is_batch: bool, max_rows: int) -> tuple[list[Row], list[int]] | None:
    """The body's rows and the indices of rows that omitted a looked-up feature (their value is None).

    Rows are tuples, except the omitted ones: lists, for the lookup to fill in place. (Tuples straight from
    ``astuple``, and the omitted rows found by one C-level ``in`` over the column: per-row Python loops here
    were ~15 % of a 100-row request's event-loop time, benchmarks/PROFILE.md round 5.)

    ``None`` when msgspec refuses the body: the caller then asks pydantic, which refuses it with the 4xx
    that names the field (or accepts it, as with a duplicated key: the fast path never causes a false 4xx).
    """
    try:
        records = _batch_decoder(max_rows).decode(body).instances if is_batch else [_RECORD.decode(body)]
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    rows: list[Row] = list(map(_astuple, records))
    if msgspec.UNSET not in map(_looked_up, rows):
        return rows, []
    omitted = [i for i, row in enumerate(rows) if row[_LOOKED_UP] is msgspec.UNSET]
    for i in omitted:
        row = list(rows[i])
        row[_LOOKED_UP] = None
        rows[i] = row
    return rows, omitted
