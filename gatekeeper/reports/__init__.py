"""Report writers: one module per format, all reading the one :class:`~gatekeeper.model.Report`."""
