"""Per-worker resources that never collide across worktrees: identity, ports, databases, temp
dirs, and the sweep that removes what dead owners left behind."""
