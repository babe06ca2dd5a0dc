"""Expected completion dates in Chinese working days.

A service's time limit is given in working days (工作日). Working days skip
weekends and statutory holidays and include the adjusted working weekends
(调休上班), as published each year by the State Council; the
``chinese-calendar`` package carries that data. Outside the package's data
range (it knows only the years published when it was released) we fall back
to plain Monday-Friday counting and flag the result ``approximate`` instead
of failing: the receipt then says the date is an estimate.
"""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass

import chinese_calendar

log = logging.getLogger("kiosk.core.workdays")

#: Guard against absurd inputs (a time limit is at most a few months).
MAX_WORKING_DAYS = 3660


@dataclass(frozen=True)
class CompletionDate:
    """The day by which an application should be decided."""

    date: _dt.date
    apply_date: _dt.date
    working_days: int
    #: True when a counted day lay outside chinese-calendar's data and
    #: was counted as Monday-Friday only (holidays unknown).
    approximate: bool = False

    def text_zh(self) -> str:
        """``2026年2月26日`` or ``约2027年1月8日（按周一至周五估算）``."""
        d = f"{self.date.year}年{self.date.month}月{self.date.day}日"
        return f"约{d}（按周一至周五估算）" if self.approximate else d


def is_workday(day: _dt.date) -> tuple[bool, bool]:
    """(is a working day, known from holiday data)."""
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:
        return day.weekday() < 5, False


def expected_completion(
    apply_date: _dt.date | _dt.datetime,
    working_days: int,
    exclude_application_day: bool = True,
) -> CompletionDate:
    """The date on which the ``working_days``-th working day falls.

    With ``exclude_application_day`` (the usual wording 自受理之日起N个工作日,
    counted from the next day) counting starts the day after ``apply_date``;
    otherwise ``apply_date`` itself is day 1 when it is a working day. Zero
    working days means "on the spot" and returns ``apply_date``.
    """
    if isinstance(apply_date, _dt.datetime):
        apply_date = apply_date.date()
    if not isinstance(working_days, int) or working_days < 0 or working_days > MAX_WORKING_DAYS:
        raise ValueError(f"working_days must be an int in 0..{MAX_WORKING_DAYS}, got {working_days!r}")
    if working_days == 0:
        return CompletionDate(apply_date, apply_date, 0, False)
    day = apply_date + _dt.timedelta(days=1) if exclude_application_day else apply_date
    counted = 0
    approximate = False
    while True:
        work, known = is_workday(day)
        approximate = approximate or not known
        if work:
            counted += 1
            if counted == working_days:
                break
        day += _dt.timedelta(days=1)
    if approximate:
        log.warning(
            "working-day count %s + %d reached %s outside chinese-calendar data; "
            "counted Monday-Friday only (approximate)",
            apply_date,
            working_days,
            day,
        )
    return CompletionDate(day, apply_date, working_days, approximate)
