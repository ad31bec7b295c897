"""Merge integration: gate the merge result of branches onto a base, alone or stacked, and land
exactly the commit that was gated. See ``docs/integration.md``."""
