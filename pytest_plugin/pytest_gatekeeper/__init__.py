"""The pytest adapter of gatekeeper: options, session wiring and fixtures. Logic lives in
the ``gatekeeper`` library; this package only connects it to pytest."""
