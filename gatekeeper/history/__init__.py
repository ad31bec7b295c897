"""The floor's history: one record per gate run, shared by every worktree of the repository.

:mod:`~gatekeeper.history.store` keeps the records (SQLite in the git common dir);
:mod:`~gatekeeper.history.recording` writes one when a gate ends, never changing its verdict;
:mod:`~gatekeeper.history.flaky`, :mod:`~gatekeeper.history.figures` and
:mod:`~gatekeeper.history.floor` read them for ``gatekeeper status``, its ``--watch`` view
(:mod:`~gatekeeper.history.watch`) and the HTML dashboard
(:mod:`~gatekeeper.history.dashboard`). See docs/floor.md.
"""
