"""One clock for the whole kiosk: every date it shows, prints, computes or
sends is in the service point's time zone (China Standard Time by default),
whatever time zone the host runs in. The platform simulator builds its
residents by China's date, so a kiosk on a UTC host picked demo residents
that did not exist between 16:00 and 24:00 UTC."""

from __future__ import annotations

import datetime as _dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TZ = "Asia/Shanghai"
_CST = _dt.timezone(_dt.timedelta(hours=8), "CST")
_tz: _dt.tzinfo = _CST


def set_timezone(name: str) -> None:
    """Use the IANA zone `name` (from `[site] timezone`); CST if the host lacks tzdata for it."""
    global _tz
    try:
        _tz = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name != DEFAULT_TZ:
            raise ValueError(f"unknown time zone {name!r}") from None
        _tz = _CST


def timezone() -> _dt.tzinfo:
    return _tz


def now() -> _dt.datetime:
    """The current time, aware, in the kiosk's time zone."""
    return _dt.datetime.now(_tz)


def today() -> _dt.date:
    """Today's date in the kiosk's time zone."""
    return now().date()


set_timezone(DEFAULT_TZ)
