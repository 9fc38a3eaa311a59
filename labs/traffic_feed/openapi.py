"""The traffic feed's OpenAPI document, built from the same pydantic models that validate its requests.

The feed is plain Starlette (no FastAPI per-request machinery on the model service's hot dependency), so
nothing generates a schema for it; this does, once, so that ``/docs`` and ``/redoc`` describe it like the
lab's other services. Request bodies and query parameters come from ``RouteKey``, ``LookupRequest`` and
``FeedFault``: change a bound there and the docs follow.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "details": {"type": "array"}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {401: "No or wrong bearer token", 403: "Control API disabled", 422: "Invalid input; `error` names the field",
            503: "Injected provider outage (drill): retry later"}
    return {str(code): _json(ERROR, text[code]) for code in codes}


def build_openapi(route_key: type[BaseModel], lookup: type[BaseModel], fault: type[BaseModel],
                  version: str = "1") -> dict[str, Any]:
    """OpenAPI 3.1 for the feed's routes (labs/traffic_feed/app.py)."""
    _, defs = models_json_schema([(m, "validation") for m in (route_key, lookup, fault)],
                                 ref_template="#/components/schemas/{model}")
    key_props = defs["$defs"][route_key.__name__]["properties"]
    ref = {m.__name__: {"$ref": f"#/components/schemas/{m.__name__}"} for m in (route_key, lookup, fault)}
    reading = {"type": "number", "minimum": 0, "maximum": 10}
    fault_answer = _json({"type": "object", "properties": {"fault": {"anyOf": [ref[fault.__name__],
                                                                              {"type": "null"}]}}},
                         "The fault in force (null: none)")
    secured = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "aiops-lab traffic feed", "version": version,
                 "description": "Road-congestion readings (traffic_index, 0-10) for delivery routes: the model "
                 "service's upstream dependency."},
        "paths": {
            "/v1/traffic-index": {
                "get": {"summary": "One reading (for curl)", "operationId": "reading",
                        "parameters": [{"name": name, "in": "query", "required": True, "schema": schema}
                                       for name, schema in key_props.items()],
                        "responses": {"200": _json({"type": "object", "properties": {
                            **key_props, "traffic_index": reading}}, "The reading"), **_errors(422, 503)}},
                "post": {"summary": "Readings for many routes (the model service's call)", "operationId": "readings",
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": ref[lookup.__name__]}}},
                         "responses": {"200": _json({"type": "object", "properties": {
                             "traffic_index": {"type": "array", "items": reading}}}, "One reading per route, in order"),
                             **_errors(422, 503)}},
            },
            "/v1/control/fault": {
                "get": {"summary": "The injected provider fault", "operationId": "get_fault", "security": secured,
                        "responses": {"200": fault_answer, **_errors(401, 403)}},
                "put": {"summary": "Inject a provider fault (drill engine, compose only)", "operationId": "put_fault",
                        "security": secured, "requestBody": {"required": True, "content": {"application/json": {
                            "schema": ref[fault.__name__]}}},
                        "responses": {"200": fault_answer, **_errors(401, 403, 422)}},
                "delete": {"summary": "Clear the provider fault", "operationId": "clear_fault", "security": secured,
                           "responses": {"200": fault_answer, **_errors(401, 403)}},
            },
            "/healthz": {"get": {"summary": "Liveness (does not exercise lookups)", "operationId": "healthz",
                                 "responses": {"200": _json({"type": "object"}, "The process answers")}}},
            "/metrics": {"get": {"summary": "Prometheus metrics (aiops_traffic_feed_*)", "operationId": "metrics",
                                 "responses": {"200": {"description": "Prometheus text format",
                                                       "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        },
        "components": {"schemas": defs["$defs"],
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
