"""The promotion gate: a candidate may not be much worse on the golden set than the model it replaces.

Why the golden set: a retrain on live feedback is judged on a holdout of that same feedback, so wrong labels
(a broken join in the label pipeline, a unit mix-up) make a wrong model look right -- it matches the labels
it learned. The golden set is a fixed, independently labelled sample of normal orders that every version is
scored on when it is trained (its card's ``golden`` metrics): the one yardstick two versions share. Issue 14:
a retrain on wrong feedback deployed a model 4.3x worse on it, and nothing stood in the way.

What it cannot tell apart: when the world itself changed (concept drift), a correct retrain is also worse on
the golden set, which describes the world before the change. Then the yardstick is what is out of date, and
a person who has checked the new labels deploys with ``--force`` (runbooks/drills/concept-drift.md).

The margin is relative: retrains on a few hundred clean rows land within ~3% of the shipped model's golden
MAE (8% at worst, on rain-scenario data); 60% shuffled labels make it +80%, a concept-drift retrain +440%.
Rollbacks are not gated: they restore a version that was already serving. Nor is a deploy while the active
version cannot be served (its files are damaged): nothing is serving to protect, and the fix for that outage
is whatever intact version there is.
"""

from __future__ import annotations

from dataclasses import dataclass

from model_service.registry import Registry, RegistryError

DEFAULT_MAX_MAE_INCREASE = 0.10
MAX_MAE_INCREASE_HELP = ("Promotion gate: how much worse than the active model's golden-set MAE a candidate may "
                         "be, as a fraction (0.10: at most 10% worse).")


class PromotionRefused(RegistryError):
    """The candidate is worse than the active model by more than the margin; the message gives both MAEs."""


@dataclass(frozen=True)
class Comparison:
    candidate: str
    candidate_mae: float
    active: str
    active_mae: float

    @property
    def increase(self) -> float:
        """Relative change of the golden-set MAE (0.25: 25% worse)."""
        if self.active_mae <= 0:
            return 0.0 if self.candidate_mae <= 0 else float("inf")
        return self.candidate_mae / self.active_mae - 1.0


def _active(registry: Registry) -> str | None:
    try:
        return registry.active()
    except RegistryError:  # a corrupt pointer: the history says what it held, and deploying is its repair
        return registry.last_deployed()


def compare(registry: Registry, candidate: str) -> Comparison | None:
    """Both golden-set MAEs; None when there is nothing to compare with (no active model, the candidate is
    the active one, or the active version cannot be served). The candidate's card must be readable."""
    candidate_mae = registry.card(candidate).metrics["golden"].mae
    active = _active(registry)
    if active is None or active == candidate or active not in registry.versions() or registry.problem(active):
        return None
    try:
        active_mae = registry.card(active).metrics["golden"].mae
    except (RegistryError, KeyError):
        return None
    return Comparison(candidate, candidate_mae, active, active_mae)


def check(registry: Registry, candidate: str, max_increase: float = DEFAULT_MAX_MAE_INCREASE) -> Comparison | None:
    """The comparison when the candidate passes; ``PromotionRefused`` with both MAEs when it does not."""
    found = compare(registry, candidate)
    if found is None or found.increase <= max_increase:
        return found
    raise PromotionRefused(
        f"{candidate} is not promoted: its golden-set MAE is {found.candidate_mae:.2f} min against "
        f"{found.active_mae:.2f} min for the active {found.active} ({found.increase:+.0%}; the promotion gate "
        f"allows at most {max_increase:+.0%}). A candidate this much worse on the fixed golden set learned "
        "something else -- often wrong labels in its training data (runbooks/drills/concept-drift.md). "
        f"Check it: aiops-lab model info {candidate}. To deploy it anyway: aiops-lab model deploy {candidate} --force")
