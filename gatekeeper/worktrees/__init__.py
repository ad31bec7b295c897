"""Parallel worktrees, one command each: ``new`` makes one ready to work in (files, ports,
database, setup, hook), ``list`` shows them with their gate state, ``rm`` removes exactly what
gatekeeper made, ``adopt`` attaches resources to a worktree another tool made."""
