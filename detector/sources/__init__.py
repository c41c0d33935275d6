"""Sources: one module per platform, each yielding :mod:`detector.records` records."""
