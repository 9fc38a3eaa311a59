"""Route labels stay bounded whatever path a client sends."""

from __future__ import annotations

import pytest

from model_service import metrics
from model_service.middleware import route_label


@pytest.mark.parametrize(("path", "label"), [
    ("/predict", "/predict"), ("/feedback", "/feedback"), ("/metrics", "/metrics"), ("/model", "/model"),
    ("/admin/config/error_ratio", "/admin"), ("/admin/models", "/admin"),
    ("/predict/", "other"), ("/admin", "other"), ("/wp-login.php", "other"), ("/" + "x" * 5000, "other"),
])
def test_route_label(path: str, label: str) -> None:
    assert route_label(path) == label
    assert label in metrics.ROUTES
