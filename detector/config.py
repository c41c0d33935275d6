"""The one typed configuration object, loaded once from TOML and checked on load.

Precedence, highest first: environment variables (``BOTWATCH_DATABASE_URL``,
``BOTWATCH_STATE_DIR``, ``BOTWATCH_TOKEN_<INSTANCE>``), then the TOML file, then defaults.
Secrets (access tokens, database passwords inside URLs) come only from the environment, a token
file or systemd credentials, and are held in :class:`Secret` so they never print.

Every problem is reported with the file, the key path and what was expected, e.g.
``botwatch.toml: watches.acme.keywords: expected a list of strings, got 'vacuum'``.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field, replace
from datetime import time as dtime
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from detector.errors import ConfigError

DEFAULT_CONFIG_NAME = "botwatch.toml"
ROUTES = ("hashtags", "public", "search", "brand")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$")
_DURATION_UNITS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
# Upper bounds, so that a typo ("5000d", inf) is an error here rather than an overflow in the
# scheduler or in date arithmetic hours later.
MAX_INTERVAL_SECONDS = 7 * 86400
MAX_LOOKBACK_HOURS = 90 * 24
MAX_REQUEST_TIMEOUT = 600
MAX_PAGES = 10_000
LEASE_TTL_PER_REQUEST_TIMEOUT = 3  # a watch's lease must outlive the slowest single request
DEFAULT_LEASE_TTL = 120.0
MAX_RETENTION_DAYS = 100 * 366


class Secret:
    """A string that does not show itself: ``repr``, ``str`` and f-strings give ``'***'``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class InstanceConfig:
    """A server botwatch polls. ``token`` is ``None`` for anonymous access to public data."""

    name: str
    url: str
    token: Secret | None = None
    token_source: str = "none"  # where the token came from, for `config check` (never the token)
    request_timeout: float = 20.0
    max_pages: int = 10
    user_agent: str = "botwatch/0.1 (scripted-reply watcher)"

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc.lower()


@dataclass(frozen=True)
class WatchConfig:
    """What to watch: keyword and hashtag posts, a brand's own accounts, and who never to flag."""

    name: str
    instance: str
    keywords: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    brand_accounts: tuple[str, ...] = ()
    allowlist: tuple[str, ...] = ()
    interval_seconds: float = 300.0
    routes: tuple[str, ...] = ROUTES
    lookback_hours: float = 24.0


@dataclass(frozen=True)
class ScoringConfig:
    """Thresholds on the calibrated score; ``None`` keeps the model card's documented defaults."""

    bot_threshold: float | None = None
    suspect_threshold: float | None = None


@dataclass(frozen=True)
class Config:
    path: Path | None
    state_dir: Path
    database_url: Secret
    model_path: Path | None
    timezone: ZoneInfo
    summary_time: dtime
    log_format: str
    log_level: str
    instances: Mapping[str, InstanceConfig] = field(default_factory=dict)
    watches: Mapping[str, WatchConfig] = field(default_factory=dict)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    warnings: tuple[str, ...] = ()
    lease_ttl_seconds: float = DEFAULT_LEASE_TTL  # how long a worker's claim on a watch lasts unrenewed
    retention_days: int | None = None  # None: keep everything
    raw_retention_days: int | None = None  # raw API JSON goes first; None: as long as the rows

    @property
    def reports_dir(self) -> Path:
        return self.state_dir / "reports"

    def instance_for(self, watch: WatchConfig) -> InstanceConfig:
        return self.instances[watch.instance]


def default_state_dir(environ: Mapping[str, str]) -> Path:
    """systemd's ``$STATE_DIRECTORY`` first, then XDG, then ``~/.local/state/botwatch``."""
    if environ.get("STATE_DIRECTORY"):
        return Path(environ["STATE_DIRECTORY"].split(":")[0])
    base = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "botwatch"


def default_config_path(environ: Mapping[str, str] = os.environ) -> Path:
    """``$BOTWATCH_CONFIG``, else ``$CONFIGURATION_DIRECTORY/botwatch.toml``, else ./botwatch.toml."""
    if environ.get("BOTWATCH_CONFIG"):
        return Path(environ["BOTWATCH_CONFIG"])
    if environ.get("CONFIGURATION_DIRECTORY"):
        return Path(environ["CONFIGURATION_DIRECTORY"].split(":")[0]) / DEFAULT_CONFIG_NAME
    return Path(DEFAULT_CONFIG_NAME)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def env_token_name(instance: str) -> str:
    return "BOTWATCH_TOKEN_" + re.sub(r"[^A-Za-z0-9]", "_", instance).upper()


class _Reader:
    """Walks one table of the TOML document, recording which keys were used and their errors."""

    def __init__(self, where: str, table: Mapping[str, Any], origin: str) -> None:
        self.where = where
        self.table = table
        self.origin = origin
        self.used: set[str] = set()

    def fail(self, key: str | None, problem: str) -> ConfigError:
        place = f"{self.where}.{key}" if key and self.where else (key or self.where or "top level")
        return ConfigError(f"{self.origin}: {place}: {problem}")

    def get(self, key: str, kind: str, check: Callable[[Any], Any], default: Any) -> Any:
        self.used.add(key)
        if key not in self.table:
            return default
        value = self.table[key]
        try:
            return check(value)
        except (TypeError, ValueError) as exc:
            detail = str(exc) or f"expected {kind}"
            raise self.fail(key, f"{detail}, got {_show(value)}") from None

    def reject_unknown(self) -> None:
        for key in self.table:
            if key not in self.used:
                close = difflib.get_close_matches(key, sorted(self.used), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise self.fail(key, f"unknown key{hint}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _nonempty(value: Any) -> str:
    text = _string(value).strip()
    if not text:
        raise ValueError("expected a non-empty string")
    return text


def _string_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TypeError("expected a list of non-empty strings")
    return tuple(dict.fromkeys(v.strip() for v in value))


def _positive_number(limit: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= limit:
            raise ValueError(f"expected a positive number up to {limit:g}")  # nan fails the comparison too
        return float(value)

    return check


def _positive_int(limit: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= limit:
            raise ValueError(f"expected a whole number from 1 to {limit}")
        return value

    return check


def _probability(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ValueError("expected a number between 0 and 1")
    return float(value)


def parse_duration(value: Any) -> float:
    """Seconds from ``300``, ``"90s"``, ``"5m"``, ``"1h"`` or ``"1d"``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _DURATION_UNITS[m.group(2)]
    else:
        raise ValueError("expected a duration such as 300, \"90s\", \"5m\" or \"1h\"")
    if not 0 < seconds <= MAX_INTERVAL_SECONDS:  # nan fails the comparison too
        raise ValueError(f"expected a positive duration up to {MAX_INTERVAL_SECONDS // 86400} days")
    return seconds


def _time_of_day(value: Any) -> dtime:
    if isinstance(value, dtime):
        return value
    if isinstance(value, str):
        try:
            return dtime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError("expected a time of day such as \"06:00\"")


def _path(value: Any) -> Path:
    """A path as written, ``~`` expanded: NUL bytes and unknown users are errors now, not later."""
    text = _nonempty(value)
    if "\0" in text:
        raise ValueError("expected a path without NUL characters")
    try:
        return Path(text).expanduser()
    except RuntimeError:  # ~user that does not exist, or no home directory
        raise ValueError("cannot expand '~' in this path") from None


def _credential_name(value: Any) -> str:
    """A systemd credential is a file name in ``$CREDENTIALS_DIRECTORY``, never a path out of it."""
    text = _nonempty(value)
    if "/" in text or "\0" in text or text in (".", ".."):
        raise ValueError("expected a credential name as in LoadCredential= (a file name, no '/')")
    return text


def _zone(value: Any) -> ZoneInfo:
    try:
        return ZoneInfo(_nonempty(value))
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a directory of zones
        raise ValueError("expected an IANA time zone such as \"Europe/Berlin\" or \"UTC\"") from None


def _url(value: Any) -> str:
    text = _nonempty(value).rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an http(s) URL such as \"https://mastodon.social\"")
    return text


def _choice(*options: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = _string(value).strip().lower()
        if text not in options:
            raise ValueError("expected one of " + ", ".join(repr(o) for o in options))
        return text

    return check


def _routes(value: Any) -> tuple[str, ...]:
    routes = _string_list(value)
    unknown = [r for r in routes if r not in ROUTES]
    if unknown or not routes:
        raise ValueError("expected a non-empty list drawn from " + ", ".join(repr(r) for r in ROUTES))
    return routes


def _account(value: str) -> str:
    return value.strip().lstrip("@").lower()


def _table(reader: _Reader, key: str) -> Mapping[str, Any]:
    return reader.get(key, "a table", _mapping, {})


def _mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError("expected a table")
    return value


def _read_token(name: str, table: _Reader, environ: Mapping[str, str], base: Path) -> tuple[Secret | None, str, list[str]]:
    """Token from the environment, else a token file, else systemd credentials; never from TOML."""
    warnings: list[str] = []
    if "token" in table.table:
        table.used.add("token")
        raise table.fail("token", f"tokens do not belong in the config file; set {env_token_name(name)} or token_file")
    env_name = env_token_name(name)
    if environ.get(env_name, "").strip():
        return Secret(environ[env_name].strip()), f"environment variable {env_name}", warnings
    path = table.get("token_file", "a path", _path, None)
    credential = table.get("token_credential", "a credential name", _credential_name, None)
    key = "token_file"
    if credential is not None:
        key = "token_credential"
        cred_dir = environ.get("CREDENTIALS_DIRECTORY")
        if not cred_dir:
            raise table.fail(key, "set, but $CREDENTIALS_DIRECTORY is not (is the service run by systemd with LoadCredential=?)")
        path = Path(cred_dir) / credential
    if path is None:
        return None, "none (anonymous access)", warnings
    if not path.is_absolute():
        path = base / path
    try:
        mode = path.stat().st_mode
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise table.fail(key, f"cannot read {path}: {exc.strerror}") from None
    except ValueError:  # not UTF-8, or a NUL in $CREDENTIALS_DIRECTORY
        raise table.fail(key, f"{path} is not a token (one line of text)") from None
    if not token:
        raise table.fail(key, f"{path} is empty")
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and credential is None:
        warnings.append(f"token file {path} is readable by other users; run: chmod 600 {path}")
    return Secret(token), f"file {path}", warnings


def parse_config(
    document: Mapping[str, Any],
    *,
    origin: str = DEFAULT_CONFIG_NAME,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Check a parsed TOML document and build the :class:`Config`; raises :class:`ConfigError`."""
    environ = os.environ if environ is None else environ
    base = path.parent if path is not None else Path.cwd()
    top = _Reader("", document, origin)
    main = _Reader("botwatch", _table(top, "botwatch"), origin)
    state_dir = main.get("state_dir", "a path", _path, None) or default_state_dir(environ)
    if environ.get("BOTWATCH_STATE_DIR"):
        try:
            state_dir = _path(environ["BOTWATCH_STATE_DIR"])
        except ValueError as exc:
            raise ConfigError(f"$BOTWATCH_STATE_DIR: {exc}") from None
    if not state_dir.is_absolute():
        state_dir = base / state_dir
    database_url = environ.get("BOTWATCH_DATABASE_URL") or main.get("database_url", "a URL", _nonempty, None)
    if database_url is None:
        database_url = sqlite_url(state_dir / "botwatch.sqlite3")
    model = main.get("model", "a path", _path, None)
    model_path = None if model is None else (model if model.is_absolute() else base / model)
    zone = main.get("timezone", "a time zone", _zone, ZoneInfo("UTC"))
    summary_time = main.get("summary_time", "a time", _time_of_day, dtime(0, 15))
    log_format = main.get("log_format", "a format", _choice("auto", "json", "console"), "auto")
    log_level = main.get("log_level", "a level", _choice("debug", "info", "warning", "error"), "info")
    lease_ttl = main.get("lease_ttl", "a duration", parse_duration, None)
    retention_days = main.get("retention_days", "days", _positive_int(MAX_RETENTION_DAYS), None)
    raw_retention_days = main.get("raw_retention_days", "days", _positive_int(MAX_RETENTION_DAYS), None)
    if retention_days is not None and raw_retention_days is not None and raw_retention_days > retention_days:
        raise main.fail("raw_retention_days", f"must not exceed retention_days ({retention_days}): the raw JSON is "
                                              "pruned first, then the rows")
    main.reject_unknown()

    warnings: list[str] = []
    instances: dict[str, InstanceConfig] = {}
    for name, raw in _table(top, "instances").items():
        table = _Reader(f"instances.{name}", raw if isinstance(raw, Mapping) else {}, origin)
        if not isinstance(raw, Mapping):
            raise table.fail(None, f"expected a table, got {_show(raw)}")
        if not _NAME.match(name):
            raise table.fail(None, "names may use letters, digits, '.', '_' and '-' only")
        token, token_source, token_warnings = _read_token(name, table, environ, base)
        warnings += token_warnings
        instances[name] = InstanceConfig(
            name=name,
            url=table.get("url", "a URL", _url, None) or _missing(table, "url", "the server's address, e.g. url = \"https://mastodon.social\""),
            token=token,
            token_source=token_source,
            request_timeout=table.get("request_timeout", "seconds", _positive_number(MAX_REQUEST_TIMEOUT), 20.0),
            max_pages=table.get("max_pages", "a count", _positive_int(MAX_PAGES), 10),
            user_agent=table.get("user_agent", "a string", _nonempty, InstanceConfig.user_agent),
        )
        table.reject_unknown()

    watches: dict[str, WatchConfig] = {}
    for name, raw in _table(top, "watches").items():
        table = _Reader(f"watches.{name}", raw if isinstance(raw, Mapping) else {}, origin)
        if not isinstance(raw, Mapping):
            raise table.fail(None, f"expected a table, got {_show(raw)}")
        if not _NAME.match(name):
            raise table.fail(None, "names may use letters, digits, '.', '_' and '-' only")
        instance = table.get("instance", "an instance name", _nonempty, None)
        if instance is None:
            if len(instances) != 1:
                _missing(table, "instance", "which [instances.NAME] to poll")
            instance = next(iter(instances))
        if instance not in instances:
            known = ", ".join(sorted(instances)) or "none defined"
            raise table.fail("instance", f"no [instances.{instance}] table (known: {known})")
        watch = WatchConfig(
            name=name,
            instance=instance,
            keywords=tuple(k.lower() for k in table.get("keywords", "a list", _string_list, ())),
            hashtags=tuple(h.lstrip("#").lower() for h in table.get("hashtags", "a list", _string_list, ())),
            brand_accounts=tuple(map(_account, table.get("brand_accounts", "a list", _string_list, ()))),
            allowlist=tuple(map(_account, table.get("allowlist", "a list", _string_list, ()))),
            interval_seconds=table.get("interval", "a duration", parse_duration, 300.0),
            routes=table.get("routes", "a list", _routes, ROUTES),
            lookback_hours=table.get("lookback_hours", "hours", _positive_number(MAX_LOOKBACK_HOURS), 24.0),
        )
        table.reject_unknown()
        if not (watch.keywords or watch.hashtags or watch.brand_accounts):
            raise table.fail(None, "needs at least one of keywords, hashtags or brand_accounts")
        watches[name] = watch

    slowest = max((i.request_timeout for i in instances.values()), default=0.0)
    if lease_ttl is None:
        lease_ttl = max(DEFAULT_LEASE_TTL, LEASE_TTL_PER_REQUEST_TIMEOUT * slowest)
    elif lease_ttl < LEASE_TTL_PER_REQUEST_TIMEOUT * slowest:
        raise main.fail("lease_ttl", f"must be at least {LEASE_TTL_PER_REQUEST_TIMEOUT}x the longest request_timeout "
                        f"({LEASE_TTL_PER_REQUEST_TIMEOUT * slowest:g}s): leases are renewed between requests")

    scoring_table = _Reader("scoring", _table(top, "scoring"), origin)
    scoring = ScoringConfig(
        bot_threshold=scoring_table.get("bot_threshold", "a probability", _probability, None),
        suspect_threshold=scoring_table.get("suspect_threshold", "a probability", _probability, None),
    )
    scoring_table.reject_unknown()
    if scoring.bot_threshold is not None and scoring.suspect_threshold is not None and scoring.suspect_threshold >= scoring.bot_threshold:
        raise scoring_table.fail("suspect_threshold", "must be below bot_threshold")
    top.reject_unknown()
    longest = max((w.lookback_hours for w in watches.values()), default=0.0)
    if retention_days is not None and retention_days * 24 <= longest:
        raise main.fail("retention_days", f"must be longer than the longest lookback_hours ({longest:g} h): "
                                          "replies are still collected under posts that old")

    return Config(
        path=path,
        state_dir=state_dir,
        database_url=Secret(database_url),
        model_path=model_path,
        timezone=zone,
        summary_time=summary_time,
        log_format=log_format,
        log_level=log_level,
        instances=instances,
        watches=watches,
        scoring=scoring,
        warnings=tuple(warnings),
        lease_ttl_seconds=lease_ttl,
        retention_days=retention_days,
        raw_retention_days=raw_retention_days,
    )


def _missing(table: _Reader, key: str, what: str) -> Any:
    raise table.fail(key, f"missing; set {what}")


def load_config(path: Path | str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read and check a ``botwatch.toml``; every failure is a :class:`ConfigError` with a fix."""
    environ = os.environ if environ is None else environ
    path = Path(path) if path is not None else default_config_path(environ)
    try:
        with path.open("rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file", hint="create one with: botwatch init") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: the file is not UTF-8 text") from None
    config = parse_config(document, origin=str(path), path=path.resolve(), environ=environ)
    secret = _secret_in(document)
    if secret and mode & (stat.S_IRWXG | stat.S_IRWXO):
        warning = (f"{path} holds {secret} and is readable by other users; run: chmod 600 {path} "
                   "(or set BOTWATCH_DATABASE_URL in the service's environment instead)")
        config = replace(config, warnings=(*config.warnings, warning))
    return config


def _secret_in(document: Mapping[str, Any]) -> str | None:
    """What in a config file should not be readable by everyone (a database password), if any."""
    main = document.get("botwatch")
    url = main.get("database_url") if isinstance(main, Mapping) else None
    try:
        return "a database password (botwatch.database_url)" if isinstance(url, str) and urlsplit(url).password else None
    except ValueError:  # not a URL at all: parse_config has accepted it, Store.open will say what is wrong
        return None
