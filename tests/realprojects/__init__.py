"""Real projects nobody here wrote, fetched as pinned source distributions, adopted with the gate
and driven through every entry point. The preparation code is shared with ``benchmarks/``."""
