"""The baseline for service_bench.py: the cheapest possible FastAPI POST endpoint, no body, no metrics."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.post("/predict")
async def predict() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
