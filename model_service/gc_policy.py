"""How the serving process uses Python's cyclic garbage collector.

Measured under ``benchmarks/service_bench.py`` (batches of 100 rows, one core, issue 18, with ``gc.callbacks``):
with the default thresholds the collector ran ~360 times a second and took ~7 % of the CPU, and every few
seconds a full collection walked every object start-up left behind (~200,000: pandas, scikit-learn, scipy,
FastAPI) and stopped the event loop for 120-230 ms -- the whole p99 of a batch request.

So, once start-up is over (the model loaded):

* ``gc.freeze()`` moves everything alive into the permanent generation, which no collection walks again.
  Start-up objects live as long as the process, so nothing collectable is lost; a collection runs first so
  no start-up garbage is frozen with them.
* The youngest generation is collected once ``GEN0_THRESHOLD`` more container objects are alive than at the
  last collection, instead of 700. A batch request holds a few hundred (parsed records, row lists) that
  reference counting frees right after the response; collecting every 700 re-walked the rows of requests
  still in flight for nothing. Cycles are still found, only later; what they can hold is bounded by the
  threshold, not by time.

Reference counting -- which frees almost everything a request allocates -- is not affected.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000
GEN1_THRESHOLD = 20
GEN2_THRESHOLD = 100


def settle_after_startup() -> None:
    """Collect start-up garbage, freeze the survivors, and raise the collection thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)
