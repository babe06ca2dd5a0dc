"""One clock for the whole kiosk: every date it shows, prints, computes or sends.

Kiosks stand in China and serve a Chinese platform, but their hosts are often
left on UTC. Dates taken from the host's local time then disagree with the
platform's for eight hours a day (16:00-24:00 UTC), so "today" for rules,
receipts, working days and the demo residents must come from here, in the
configured ``[site] time_zone`` (default Asia/Shanghai), never from
``date.today()`` or a naive ``datetime.now()``.
"""

from __future__ import annotations

import datetime as _dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME_ZONE = "Asia/Shanghai"
# China has no daylight saving time, so a host without tz data still gets the right clock.
_FALLBACK = {DEFAULT_TIME_ZONE: _dt.timezone(_dt.timedelta(hours=8), "CST")}


def zone(name: str) -> _dt.tzinfo:
    """The tzinfo for an IANA name; ValueError for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        if name in _FALLBACK:
            return _FALLBACK[name]
        raise ValueError(f"unknown time zone {name!r}") from exc


_tz: _dt.tzinfo = zone(DEFAULT_TIME_ZONE)


def configure(time_zone: str) -> None:
    """Set the kiosk's time zone (done by kiosk.core.config.load)."""
    global _tz
    _tz = zone(time_zone)


def tz() -> _dt.tzinfo:
    return _tz


def now() -> _dt.datetime:
    """The current time, aware, in the kiosk's time zone."""
    return _dt.datetime.now(_tz)


def today() -> _dt.date:
    """Today's date where the kiosk stands (not where its host clock is set)."""
    return now().date()


def from_timestamp(t: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(t, _tz)
