"""The built-in checks. Each module holds one check; :mod:`gatekeeper.checks.builtin` registers them
through the same hook third-party plugins use."""
