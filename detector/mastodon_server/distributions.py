"""Distributions the simulated community draws from, and the measured tables behind them.

The quantile tables were measured with ``python -m detector.mastodon_server.profile_stats
../shared/data`` from the cresci datasets (Cresci et al., WWW 2017 and Decision Support Systems
2015); only these aggregate figures are kept, not the data. ``docs/simulation.md`` has the output.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass

DAY_MS = 86_400_000
HOUR_MS = 3_600_000

# Relative activity per local hour (0..23): low 2-6 am, a lunch bump, peak in the evening: the
# shape of the circadian Twitter activity curves in Golder & Macy, Science 333 (2011).
DIURNAL = (3, 2, 1.2, 0.8, 0.6, 0.7, 1.5, 3, 4.5, 5, 5.2, 5.5, 6, 5.8, 5.4, 5.2, 5.3, 5.8, 6.5, 7.2, 7.5, 7, 6, 4.5)
# Where the instance's people live (UTC offset in hours, relative weight).
UTC_OFFSETS = ((-8, 10), (-5, 18), (-3, 4), (0, 20), (1, 26), (2, 8), (5.5, 5), (9, 5), (10, 4))


@dataclass(frozen=True, slots=True)
class Delay:
    """A delay in seconds: log-normal (``median``, ``sigma``) or uniform, clipped to [low, high]."""

    median: float
    sigma: float
    low: float
    high: float
    uniform: bool = False

    @classmethod
    def lognormal(cls, median: float, sigma: float, low: float, high: float) -> "Delay":
        return cls(median, sigma, low, high)

    @classmethod
    def between(cls, low: float, high: float) -> "Delay":
        return cls((low + high) / 2, 0.0, low, high, uniform=True)

    def sample(self, rng: random.Random) -> float:
        if self.uniform:
            return rng.uniform(self.low, self.high)
        value = math.exp(rng.gauss(math.log(self.median), self.sigma)) if self.sigma else self.median
        return min(max(value, self.low), self.high)


@dataclass(frozen=True, slots=True)
class Quantiles:
    """An empirical distribution given by its 10/25/50/75/90th percentiles and a range.

    Sampling interpolates between the points on a log(1+x) scale, which reproduces the
    measured quantiles exactly; the tails run linearly (in that scale) to ``low`` and ``high``.
    """

    low: float
    p10: float
    p25: float
    p50: float
    p75: float
    p90: float
    high: float

    def sample(self, rng: random.Random) -> float:
        u = rng.random()
        xs = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
        ys = [math.log1p(v) for v in (self.low, self.p10, self.p25, self.p50, self.p75, self.p90, self.high)]
        i = min(bisect.bisect_right(xs, u), len(xs) - 1)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return math.expm1(y0 + (y1 - y0) * (u - x0) / (x1 - x0))


# Measured with ``python -m detector.mastodon_server.profile_stats ../shared/data``
# (cresci-2017: Cresci et al., WWW 2017; cresci-2015: Cresci et al., Decision Support Systems 2015).
GENUINE_FOLLOWERS = Quantiles(0, 56, 149, 341, 804, 1884, 40_000)  # cresci-2017 genuine
GENUINE_FOLLOWING = Quantiles(0, 88, 169, 319, 636, 1293, 8_000)  # cresci-2017 genuine
GENUINE_AGE_DAYS = Quantiles(20, 291, 630, 1192, 1804, 2191, 2900)  # cresci-2017 genuine
HUMAN_STATUSES_PER_DAY = Quantiles(0.01, 0.05, 0.19, 0.67, 1.88, 5.07, 30)  # cresci-2015 humans
POWER_STATUSES_PER_DAY = Quantiles(8, 9, 12, 17.6, 25, 41.2, 60)  # cresci-2017 genuine, 75th-90th pct
FAKE_FOLLOWERS = Quantiles(0, 3, 7, 12, 18, 25, 60)  # cresci-2015 fake followers
FAKE_FOLLOWING = Quantiles(20, 193, 217, 302, 529, 617, 2000)  # cresci-2015 fake followers
SPAMBOT_FOLLOWERS = Quantiles(0, 0, 0, 234, 3849, 5192, 9000)  # cresci-2017 social spambots #1
SPAMBOT_FOLLOWING = Quantiles(0, 0, 0, 313, 4090, 5454, 9000)  # cresci-2017 social spambots #1
SPAMBOT_AGE_DAYS = Quantiles(300, 450, 797, 872, 874, 875, 1200)  # cresci-2017 social spambots #1
CAMPAIGN_AGE_DAYS = Quantiles(0.5, 2, 6, 21, 50, 110, 200)  # design choice: accounts made for a campaign
