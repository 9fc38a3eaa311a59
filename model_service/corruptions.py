"""How a deliberately bad candidate's training data is broken (``training.train(corruption=...)``), by name.

Plain data, apart from ``model_service.training`` so that validating a name (a drill file, a CLI option) does
not import scikit-learn: ``drill start bad-model-deploy`` spent 2.7 s of its 13 s on that import.
"""

from __future__ import annotations

CORRUPTIONS: dict[str, str] = {
    "labels-shuffled": "60% of training labels shuffled between rows (a broken join in the label pipeline)",
    "distance-metres": "trained on distance in metres while the API sends kilometres (unit skew)",
}
