"""The lab pager: Alertmanager's webhook receiver and the incident timeline the drill engine scores.

Alertmanager re-sends a firing alert every ``repeat_interval`` and retries failed deliveries, so the pager
de-duplicates by fingerprint and episode (``startsAt``): one *page* per firing episode, however many
notifications carry it. Everything is committed to SQLite before Alertmanager gets its 200, so a crash
never loses a page (Alertmanager retries whatever was not acknowledged).

Only the lab's own callers write to it (``auth``: Alertmanager, the CLI and the drill engine send the lab's
token). It cannot report its own death, so ``watch`` checks the alert path from outside it. People read it
in a browser: ``inbox`` (``/``, and ``/pages`` for a browser) with the runbooks rendered by ``runbooks``.
"""
