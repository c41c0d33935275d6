"""The local Mastodon-API test server and the simulated community it serves.

``simulate(SimParams(seed=...))`` builds a community (pure, deterministic per seed);
``MastodonTestServer(community)`` serves it over real HTTP on loopback for Mastodon.py, the
botwatch poller, the README demo and the tests. See ``docs/simulation.md``.
"""

from detector.mastodon_server.community import (
    ALL_KINDS,
    HARD_NEGATIVE_KINDS,
    SCRIPTED_KINDS,
    Community,
    Delay,
    Quantiles,
    SimAccount,
    SimParams,
    SimStatus,
    simulate,
)
from detector.mastodon_server.faults import FAULT_KINDS, Fault, FaultRegistry
from detector.mastodon_server.server import MastodonTestServer, RequestRecord, SimClock

__all__ = [
    "FAULT_KINDS", "Fault", "FaultRegistry", "MastodonTestServer", "RequestRecord", "SimClock",
    "ALL_KINDS", "HARD_NEGATIVE_KINDS", "SCRIPTED_KINDS", "Community", "Delay", "Quantiles", "SimAccount",
    "SimParams", "SimStatus", "simulate",
]
