"""Incident drills: a catalogue of real-looking faults, an engine that injects and rolls them back, and a
checker that judges recovery by what users see (SLIs in Prometheus, quality on held-out labelled data).

One module per job: ``schema`` (+ ``schema_base``, ``fault_types``: the drill file format), ``catalogue``
(loading + validation), ``preflight`` (is the lab ready for a drill), ``journal`` (crash-safe run record),
``faults`` (injection), ``rollback`` (undo), ``traffic`` + ``upstream`` (the drill's clients), ``checks``
(success checks, via ``aiops_core.prometheus``), ``actions`` (what the learner did), ``scoring``,
``postmortem`` and ``engine`` (the orchestration behind ``aiops-lab drill``).
"""
