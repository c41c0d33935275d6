"""Signals: pure functions over normalised records (content, account, behaviour)."""
