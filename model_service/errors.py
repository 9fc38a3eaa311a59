"""Turn every rejection into a 4xx whose message names the field and the rule -- never a 500."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from starlette.responses import JSONResponse

from model_service import metrics
from model_service.features import FEATURE_NAMES
from model_service.schemas import OPENAPI_BODY_MODELS

_KNOWN_FIELDS = set(metrics.VALIDATION_FIELDS)
# Fields each body model accepts, by model title, so "unknown field" lists the right alternatives.
_BODY_FIELDS: dict[str, tuple[str, ...]] = {m.__name__: tuple(m.model_fields) for m in OPENAPI_BODY_MODELS}
_BODY_FIELDS["PredictionBatch"] = ("instances",)


class ApiError(Exception):
    """An error with an HTTP status and a message meant for the client."""

    def __init__(self, status: int, message: str, details: Sequence[dict[str, str]] = (),
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = list(details)
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "details": self.details}

    def response(self) -> JSONResponse:
        """The answer every route gives for this error (the app's handler and ``routes.asgi.DirectRoutes``)."""
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def _metric_field(loc: Sequence[int | str]) -> str:
    """Bounded label for the validation-error counter: the feature, or a fixed bucket."""
    names = [p for p in loc if isinstance(p, str)]
    if not names:
        return "body"
    last = names[-1]
    return last if last in _KNOWN_FIELDS else "other"


def from_validation(exc: ValidationError, status: int = 422, loc_prefix: tuple[str, ...] = ()) -> ApiError:
    """Convert pydantic errors, count them by field, and keep the first one in the summary.

    ``loc_prefix`` places errors of a value validated on its own (e.g. a query parameter) at its path.
    """
    details = []
    for err in exc.errors(include_url=False):
        loc = (*loc_prefix, *err.get("loc", ()))
        path = _path(loc)
        rule = err["type"]
        msg = err["msg"]
        if rule == "extra_forbidden":
            in_batch_row = len(loc) == 3 and loc[0] == "instances"
            allowed = FEATURE_NAMES if in_batch_row else _BODY_FIELDS.get(exc.title, ())
            msg = f"unknown field; allowed fields are: {', '.join(allowed)}" if allowed else "unknown field"
        details.append({"field": path, "rule": rule, "message": msg})
        metrics.VALIDATION_ERRORS.labels(_metric_field(loc)).inc()
    first = details[0] if details else {"field": "body", "message": "invalid"}
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return ApiError(status, f"{first['field']}: {first['message']}{more}", details)
