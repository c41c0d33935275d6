"""Scheduled jobs (poll, daily summary) and the service that runs them."""
