"""The /predict handler's own pieces: the predicted minutes' JSON text, the direct routes ahead of the router,
and the documented twin routes."""

from __future__ import annotations

import asyncio
import json
import math
import random
import struct
import time
from pathlib import Path

import numpy as np
import pytest
from starlette.requests import ClientDisconnect, Request

from model_service.errors import ApiError
from model_service.prediction_log import PredictionLog
from model_service.routes import asgi, predict
from model_service.routes.predict import _matrix, minutes_text, predictions_json


def _values() -> list[float]:
    rnd = random.Random(18)
    values = [rnd.choice((-1, 1)) * 10 ** rnd.uniform(-6, 13) for _ in range(80_000)]
    for _ in range(40_000):  # ties and their neighbours: where rounding twice would differ from once
        tie = (rnd.randint(-10**9, 10**9) + 0.5) / 1000
        values += [tie, math.nextafter(tie, math.inf), math.nextafter(tie, -math.inf)]
    for _ in range(40_000):  # any bit pattern
        x = struct.unpack("d", struct.pack("Q", rnd.getrandbits(64)))[0]
        if math.isfinite(x):
            values.append(x)
    return [*values, 0.0, -0.0, 0.0005, 2.675, 27.4, 1e12, -1e12, 999_999_999_999.9995, 1e300]


def test_minutes_text_is_what_round_and_repr_always_wrote() -> None:
    values = _values()
    for start in range(0, len(values), 1000):  # batches of mixed magnitudes, as well as one value at a time
        chunk = values[start:start + 1000]
        assert minutes_text(chunk) == [repr(round(v, 3)) for v in chunk]
    assert [minutes_text([v])[0] for v in values[:5000]] == [repr(round(v, 3)) for v in values[:5000]]
    assert minutes_text([]) == []


def test_predictions_json_is_the_objects_the_service_always_sent() -> None:
    values = _values()
    in_range = [v for v in values if abs(v) < 1e12]  # a batch with a larger one is written the row way
    chunks = [in_range[i:i + 1000] for i in range(0, len(in_range), 1000)]  # every value the numpy way
    for size in (100, 7, 1):  # mixed magnitudes
        chunks += [values[i:i + size] for i in range(0, 200 * size, size)]
    for n, chunk in enumerate(chunks):
        first = 0x10000000 + n * 1000 - 3  # counters crossing a digit boundary too
        ids = [f"p0a1b2c3d4e-{i:x}" for i in range(first, first + len(chunk))]
        expected = [{"prediction_id": pid, "predicted_minutes": round(v, 3)}
                    for pid, v in zip(ids, chunk, strict=True)]
        text = predictions_json("p0a1b2c3d4e-", first, chunk, np.array(chunk))
        assert json.loads(f"[{text}]") == expected
        assert text == ",".join(f'{{"prediction_id":"{pid}","predicted_minutes":{round(v, 3)!r}}}'
                                for pid, v in zip(ids, chunk, strict=True))
        assert predictions_json("p0a1b2c3d4e-", first, chunk) == text  # the row path (no array) writes the same
    assert predictions_json("p-", 1, []) == predictions_json("p-", 1, [], np.array([])) == ""
    assert predictions_json("p-", 0xff, [1.0, 2.0], np.array([1.0, 2.0])).count('"p-100"') == 1


def test_a_documented_route_answers_with_what_its_handler_sends() -> None:
    async def handler(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        body = await asgi.read_body(receive)
        await asgi.send_json(send, '{"echo":' + body.decode() + "}")

    chunks = [b'{"a":', b"1}"]

    async def receive() -> dict:
        return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}

    request = Request({"type": "http", "method": "POST", "path": "/x", "headers": [], "query_string": b""}, receive)
    response = asyncio.run(asgi.as_response(handler, request))
    assert response.status_code == 200
    assert response.body == b'{"echo":{"a":1}}'
    assert response.headers["content-type"] == "application/json"


def test_a_client_that_goes_away_mid_body_raises_as_request_body_does() -> None:
    async def receive() -> dict:
        return {"type": "http.disconnect"}

    with pytest.raises(ClientDisconnect):
        asyncio.run(asgi.read_body(receive))


def _call(app, method: str, path: str) -> list[dict]:  # type: ignore[no-untyped-def]
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app({"type": "http", "method": method, "path": path, "headers": [], "query_string": b""},
                    receive, send))
    return sent


def test_direct_routes_serve_their_requests_and_pass_on_the_rest() -> None:
    async def router(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        await asgi.send_json(send, '{"from":"router"}')

    async def handler(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        await asgi.send_json(send, '{"from":"handler"}')

    app = asgi.DirectRoutes(router, {("POST", "/predict"): handler})
    assert _call(app, "POST", "/predict")[1]["body"] == b'{"from":"handler"}'
    assert _call(app, "GET", "/predict")[1]["body"] == b'{"from":"router"}'  # the router answers 405 there
    assert _call(app, "POST", "/predict/")[1]["body"] == b'{"from":"router"}'


def test_an_api_error_from_a_direct_route_gets_the_apps_error_answer() -> None:
    async def handler(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        raise ApiError(503, "prediction log: full; retry shortly", headers={"Retry-After": "1"})

    start, body = _call(asgi.DirectRoutes(None, {("POST", "/predict"): handler}), "POST", "/predict")  # type: ignore[arg-type]
    expected = ApiError(503, "prediction log: full; retry shortly", headers={"Retry-After": "1"}).response()
    assert start["status"] == 503 and body["body"] == expected.body
    assert (b"retry-after", b"1") in start["headers"]
    assert json.loads(body["body"]) == {"error": "prediction log: full; retry shortly", "details": []}


def test_any_other_error_from_a_direct_route_propagates_to_the_500_handler() -> None:
    async def handler(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        _call(asgi.DirectRoutes(None, {("POST", "/predict"): handler}), "POST", "/predict")  # type: ignore[arg-type]


def _backlogged_log(path: Path) -> PredictionLog:
    log = PredictionLog(path, flush_ms=10, queue_max_rows=1000)
    row = ("id", 0.0, "v1", 1.0, 1, 0, None, 1.0, 20.0, 1.0, None)
    log.append_predictions([(f"b{i}", *row[1:]) for i in range(501)])
    assert log.backlogged()
    return log


def test_a_backlogged_log_holds_the_request_until_the_writer_catches_up(tmp_path: Path) -> None:
    """Back-pressure: the request waits (the loop idles, the writer runs) instead of filling the buffer."""
    log = _backlogged_log(tmp_path / "p.db")
    log.start()
    try:
        asyncio.run(predict._let_the_writer_catch_up(log))
        assert not log.backlogged()
    finally:
        log.close()


def test_a_stuck_writer_delays_a_request_by_the_bound_only(tmp_path: Path) -> None:
    log = _backlogged_log(tmp_path / "p.db")  # never started: nothing will take the backlog
    started = time.perf_counter()
    asyncio.run(predict._let_the_writer_catch_up(log))
    assert time.perf_counter() - started >= predict.BACKLOG_WAIT_S
    assert log.backlogged()  # the request then appends, and a full buffer still answers 503 (LogFull)


def test_the_batch_matrix_keeps_every_value_and_reads_none_as_nan() -> None:
    rows = [(3.5, 2, 1, 4.25, 12.0), [1.0, 1, 0, None, 0.5], (0.1, 200, 0, 10.0, 600.0)]
    matrix = _matrix(rows)
    assert matrix.shape == (3, 5) and matrix.dtype == np.float64
    assert np.isnan(matrix[1, 3]) and np.isnan(matrix).sum() == 1
    assert matrix[[0, 2]].tolist() == [[3.5, 2.0, 1.0, 4.25, 12.0], [0.1, 200.0, 0.0, 10.0, 600.0]]
    assert _matrix(rows[::2]).tolist() == matrix[[0, 2]].tolist()  # the fast path (no None) gives the same
