"""Fuzzing the config loader with hypothesis: any file gives a :class:`Config` or a
:class:`ConfigError`, never a traceback; and a Config it gives is one the service can run.

Documents are written with tomli-w (any TOML there is: every value type, inf and nan included),
or are near-valid configs with values swapped for arbitrary TOML, or are not TOML at all.
"""

from __future__ import annotations

import json
import math
import string
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
import tomli_w
from apscheduler.triggers.interval import IntervalTrigger
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.config import Config, load_config
from detector.errors import ConfigError

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])

toml_scalars = (st.text(max_size=30) | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.booleans()
                | st.floats(allow_nan=True, allow_infinity=True) | st.dates() | st.times()
                | st.datetimes(timezones=st.none() | st.just(timezone.utc)))
toml_values = st.recursive(toml_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=15)
names = st.text(alphabet=string.ascii_letters + string.digits + "_.-é ", min_size=1, max_size=12)
plausible = (st.sampled_from(["5m", "90s", "1h", "1d", "0s", "-5m", "1e9d", "99999999999999999999d", "soon", "",
                              "https://social.example", "http://[::1", "ftp://x", "Europe/Berlin", "UTC",
                              "America", "../../etc/passwd", "Mars/Olympus", "06:00", "25:00", "~nobody_at_all/x",
                              "/dev/null", "a\x00b", "vacuum", "#vacuum", "@acme", "json", "debug"])
             | st.lists(st.sampled_from(["vacuum", "", " ", "#tag", "hashtags", "public", "search", "brand"]),
                        max_size=3)
             | st.sampled_from([math.inf, -math.inf, math.nan, 0, -1, 1e308, 2**63 - 1, 0.5, 300]))
value = plausible | toml_values

BOTWATCH_KEYS = ["state_dir", "database_url", "model", "timezone", "summary_time", "log_format", "log_level"]
INSTANCE_KEYS = ["url", "token_file", "token_credential", "request_timeout", "max_pages", "user_agent", "token"]
WATCH_KEYS = ["instance", "keywords", "hashtags", "brand_accounts", "allowlist", "interval", "routes",
              "lookback_hours"]
SCORING_KEYS = ["bot_threshold", "suspect_threshold"]


VALID = {
    "botwatch": {"timezone": "Europe/Berlin", "summary_time": "06:00", "log_format": "json"},
    "instances": {"main": {"url": "https://social.example", "request_timeout": 20, "max_pages": 10}},
    "watches": {"vacuums": {"instance": "main", "keywords": ["vacuum"], "hashtags": ["vacuum"],
                            "brand_accounts": ["acme"], "interval": "5m", "lookback_hours": 24}},
    "scoring": {"bot_threshold": 0.9},
}
SECTIONS = {("botwatch",): BOTWATCH_KEYS, ("instances", "main"): INSTANCE_KEYS, ("watches", "vacuums"): WATCH_KEYS,
            ("scoring",): SCORING_KEYS}


def near_valid() -> st.SearchStrategy[dict]:
    """The valid config above with one to three values replaced (or tables renamed)."""
    change = st.sampled_from(sorted(SECTIONS)).flatmap(
        lambda where: st.tuples(st.just(where), st.sampled_from(SECTIONS[where]), value))

    def build(changes, rename):
        import copy

        document = copy.deepcopy(VALID)
        for where, key, new in changes:
            table = document
            for part in where:
                table = table[part]
            table[key] = new
        if rename is not None:
            document["watches"][rename] = document["watches"].pop("vacuums")
        return document

    return st.builds(build, st.lists(change, min_size=1, max_size=3), st.none() | names)


def check_usable(config: Config) -> None:
    """What the service does with a Config right after loading it must not fail."""
    for instance in config.instances.values():
        assert math.isfinite(instance.request_timeout) and instance.request_timeout > 0
        assert instance.max_pages >= 1 and instance.host
    for watch in config.watches.values():
        IntervalTrigger(seconds=watch.interval_seconds)
        timedelta(hours=watch.lookback_hours)
        datetime.now(timezone.utc) - timedelta(hours=watch.lookback_hours)
        assert watch.instance in config.instances
    datetime.combine(date.today(), config.summary_time, tzinfo=config.timezone)
    assert isinstance(config.summary_time, time) and config.state_dir.is_absolute()


def load(tmp_path: Path, text: bytes | str):
    path = tmp_path / "botwatch.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    try:
        config = load_config(path, environ={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    except ConfigError as exc:
        assert str(exc).startswith(str(path)) and len(str(exc)) < 2000
        return None
    check_usable(config)
    return config


@FAST
@given(st.dictionaries(st.text(max_size=10), toml_values, max_size=5))
def test_any_toml_document_is_a_config_or_a_config_error(tmp_path, document):
    load(tmp_path, tomli_w.dumps(document))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(near_valid())
def test_near_valid_configs_are_a_usable_config_or_a_config_error(tmp_path, document):
    load(tmp_path, tomli_w.dumps(document))


FOUND = [  # what fuzzing (and a few minutes with its strategies) turned up: each crashed before
    {"watches": {"vacuums": {"interval": math.nan}}}, {"watches": {"vacuums": {"interval": math.inf}}},
    {"watches": {"vacuums": {"interval": "99999999999999999999d"}}}, {"watches": {"vacuums": {"lookback_hours": 1e308}}},
    {"instances": {"main": {"request_timeout": math.inf}}}, {"botwatch": {"state_dir": "~nobody_at_all/x"}},
    {"botwatch": {"model": "~nobody_at_all/m.json.gz"}}, {"instances": {"main": {"token_file": "a\x00b"}}},
    {"instances": {"main": {"token_file": "~nobody_at_all/t"}}}, {"instances": {"main": {"token_file": "/bin/sh"}}},
    {"botwatch": {"timezone": "America"}}, {"instances": {"main": {"token_credential": "../../etc/shadow"}}},
]


def merged(change: dict) -> dict:
    import copy

    document = copy.deepcopy(VALID)
    for section, tables in change.items():
        for key, new in tables.items():
            if isinstance(new, dict):
                document[section][key].update(new)
            else:
                document[section][key] = new
    return document


@pytest.mark.parametrize("change", FOUND, ids=lambda c: json.dumps(c, default=str)[:60])
def test_what_fuzzing_found_is_a_config_error(tmp_path, change):
    assert load(tmp_path, tomli_w.dumps(merged(change))) is None


@FAST
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_any_bytes_are_a_config_or_a_config_error(tmp_path, data):
    load(tmp_path, data)
