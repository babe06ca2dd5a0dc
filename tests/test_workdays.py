import datetime as dt
import logging

import chinese_calendar
import pytest

from kiosk.core.workdays import expected_completion

D = dt.date


def brute_force(start: dt.date, n: int, exclude: bool = True) -> dt.date:
    """Independent reference: walk chinese_calendar's own workday list."""
    end = min(start + dt.timedelta(days=120), max(chinese_calendar.holidays).replace(month=12, day=31))
    days = chinese_calendar.get_workdays(start + dt.timedelta(days=1 if exclude else 0), end)
    return days[n - 1]


def test_calendar_facts_the_tests_rely_on():
    # 2026 Spring Festival: Feb 15-23 off, Sat Feb 14 and Sat Feb 28 worked
    assert chinese_calendar.is_workday(D(2026, 2, 14)) and D(2026, 2, 14).weekday() == 5
    assert chinese_calendar.is_workday(D(2026, 2, 28)) and D(2026, 2, 28).weekday() == 5
    assert not chinese_calendar.is_workday(D(2026, 2, 16))
    # 2025 National Day: Oct 1-8 off, Sun Sep 28 and Sat Oct 11 worked
    assert chinese_calendar.is_workday(D(2025, 9, 28)) and D(2025, 9, 28).weekday() == 6
    assert chinese_calendar.is_workday(D(2025, 10, 11)) and D(2025, 10, 11).weekday() == 5
    assert not chinese_calendar.is_workday(D(2025, 10, 8))


def test_spring_festival_2026_counts_adjusted_saturday_and_skips_the_holiday():
    # applied Thu Feb 12: Fri 13 (1), Sat 14 worked (2), Feb 15-23 off, 24 (3), 25 (4), 26 (5)
    r = expected_completion(D(2026, 2, 12), 5)
    assert r.date == D(2026, 2, 26)
    assert not r.approximate
    # weekday-only counting would have said Feb 20, in the middle of the holiday
    assert r.date == brute_force(D(2026, 2, 12), 5)


def test_spring_festival_2026_adjusted_saturday_after_the_holiday():
    # applied Wed Feb 25: Thu 26 (1), Fri 27 (2), Sat 28 worked (3)
    assert expected_completion(D(2026, 2, 25), 3).date == D(2026, 2, 28)


def test_national_day_2025_counts_adjusted_sunday_and_saturday():
    # applied Fri Sep 26: Sun Sep 28 worked (1), Mon 29 (2), Tue 30 (3), Oct 1-8 off, Thu 9 (4), Fri 10 (5), Sat 11 worked (6)
    r = expected_completion(D(2025, 9, 26), 6)
    assert r.date == D(2025, 10, 11)
    assert r.date == brute_force(D(2025, 9, 26), 6)


def test_national_day_2026_adjusted_sunday_before_and_saturday_after():
    # Sun Sep 20 2026 and Sat Oct 10 2026 are working days
    assert expected_completion(D(2026, 9, 19), 1).date == D(2026, 9, 20)
    assert expected_completion(D(2026, 9, 30), 3).date == D(2026, 10, 10)  # Oct 8, 9, 10


def test_including_the_application_day():
    assert expected_completion(D(2026, 2, 12), 1, exclude_application_day=False).date == D(2026, 2, 12)
    assert expected_completion(D(2026, 2, 12), 1, exclude_application_day=True).date == D(2026, 2, 13)
    # applying on a holiday: the day itself never counts
    assert expected_completion(D(2026, 2, 17), 1, exclude_application_day=False).date == D(2026, 2, 24)


@pytest.mark.parametrize("start", [D(2025, 1, 20), D(2025, 4, 28), D(2025, 9, 20), D(2026, 2, 10), D(2026, 9, 25)])
@pytest.mark.parametrize("n", [1, 5, 10, 20])
def test_matches_chinese_calendar_workday_list(start, n):
    assert expected_completion(start, n).date == brute_force(start, n)


def test_zero_days_is_the_same_day():
    assert expected_completion(D(2026, 2, 15), 0).date == D(2026, 2, 15)


def test_outside_data_range_falls_back_to_weekdays_and_says_so(caplog):
    caplog.set_level(logging.WARNING, logger="kiosk.core.workdays")
    last_year = max(chinese_calendar.holidays).year
    start = D(last_year + 1, 3, 6)  # a weekday in a year the package has no data for
    r = expected_completion(start, 5)
    assert r.approximate
    expected = start
    count = 0
    while count < 5:
        expected += dt.timedelta(days=1)
        count += expected.weekday() < 5
    assert r.date == expected
    assert "约" in r.text_zh() and "估算" in r.text_zh()
    assert "outside chinese-calendar data" in caplog.text


def test_count_running_out_of_data_range_is_flagged():
    last = max(chinese_calendar.holidays)
    r = expected_completion(D(last.year, 12, 28), 10)
    assert r.approximate and r.date.year == last.year + 1


def test_datetime_input_and_bad_counts():
    assert expected_completion(dt.datetime(2026, 2, 12, 16, 45), 5).date == D(2026, 2, 26)
    with pytest.raises(ValueError):
        expected_completion(D(2026, 2, 12), -1)
