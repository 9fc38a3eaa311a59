#!/opt/venv/bin/python
"""``ensure-model``: train and activate the first model unless the registry already has an active one.

The compose ``model-init`` one-shot runs this before the model service starts (the service's readiness
needs an active model). It is idempotent on purpose: ``docker compose up`` after ``down`` (volumes kept)
must not train a new version and silently replace the one a learner deployed or rolled back to. The
training itself is ``aiops-lab model train``, exactly what a learner runs natively.
"""

from __future__ import annotations

import os
import sys

from aiops_core import paths
from model_service.registry import Registry


def main() -> int:
    active = Registry(paths.models_dir()).active()
    if active is not None:
        print(f"model {active} is already active in {paths.models_dir()}; nothing to train")
        return 0
    aiops_lab = os.path.join(os.path.dirname(sys.executable), "aiops-lab")
    os.execv(aiops_lab, [aiops_lab, "model", "train"])  # trains and deploys: no model is active yet


if __name__ == "__main__":
    sys.exit(main())
