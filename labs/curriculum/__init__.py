"""Guided labs: an ordered curriculum of hands-on exercises, each checked automatically on the live lab.

Backend developers learning AI operations work through modules (``modules/<id>/README.md``), write their
answers into a workspace under the state directory, and run ``aiops-lab lab check MODULE`` to be told,
step by step, whether they got it right. Reference answers are computed at check time from the live lab
(Prometheus, the prediction log, the model registry) or from a per-learner seed, never read from a file in
the repository, so a solution cannot be copied from here.

One module per job: ``catalogue`` (modules and exercises), ``progress`` (saved progress, workspaces),
``steps`` (pass/fail results with hints), ``answers`` (answer files), ``live`` (the running lab),
``runner`` (check orchestration), ``checks/*`` (one file per curriculum module) and ``postmortem_lint``.
"""
