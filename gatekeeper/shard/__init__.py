"""Sharding a gate across CI jobs: which tests each shard runs, and the per-test durations that
balance them (kept in pytest-split's file format, so either tool can read the other's)."""
