"""ID-number check characters (GB 11643 / ISO 7064 MOD 11-2) and masking."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, strategies as st

from kiosk.core.idnumber import (age_on, check_char, gender_of, id_problem, is_valid_id, make_id, mask_id,
                                  mask_name, scrub)

# Published examples: the GB 11643 sample number, and numbers whose check character is X.
VALID = ["11010519491231002X", "440524188001010014", "11010119900307803X", "110101199003077774"]


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers(number):
    assert is_valid_id(number)
    assert id_problem(number) is None


def test_lowercase_x_is_accepted_after_normalising():
    assert is_valid_id("11010519491231002x")


@pytest.mark.parametrize("number, reason", [
    ("110105194912310021", "check character"),   # right shape, wrong check
    ("11010519491231002", "18 characters"),       # too short
    ("1101051949123100XX", "17 digits"),
    ("110105194913310024", "birth date"),         # month 13
    ("", "18 characters"),
])
def test_invalid_numbers_say_why(number, reason):
    assert not is_valid_id(number)
    assert reason in id_problem(number)


def test_check_char_x_and_every_digit():
    assert check_char("11010519491231002") == "X"
    seen = {check_char(f"{n:017d}") for n in range(0, 2_000_000, 997)}
    assert seen == set("0123456789X")


@given(st.integers(min_value=0, max_value=10**17 - 1))
def test_exactly_one_check_char_is_valid(n):
    first17 = f"14012319600115{n % 1000:03d}"
    valid = [c for c in "0123456789X" if is_valid_id(first17 + c)]
    assert valid == [check_char(first17)]


def test_gender_and_age():
    number = make_id("140123", dt.date(1958, 3, 14), 21)
    assert is_valid_id(number)
    assert gender_of(number) == "男"
    assert age_on(number, dt.date(2026, 3, 13)) == 67
    assert age_on(number, dt.date(2026, 3, 14)) == 68


@given(st.text(alphabet="0123456789X", min_size=0, max_size=30))
def test_mask_never_reveals_more_than_first3_last4(value):
    masked = mask_id(value)
    assert len(masked) == len(value)
    revealed = [i for i, c in enumerate(masked) if c != "*"]
    assert len(revealed) <= 7
    assert all(i < 3 or i >= len(value) - 4 for i in revealed)


def test_mask_shape():
    assert mask_id("11010519491231002X") == "110***********002X"
    assert mask_name("王秀兰") == "王**"
    assert mask_name("张伟") == "张*"


def test_scrub_masks_numbers_in_free_text():
    line = "lookup 11010519491231002X failed; card 440524188001010014 ok; phone 13800138000"
    out = scrub(line)
    assert "11010519491231002X" not in out and "440524188001010014" not in out
    assert "110***********002X" in out and "13800138000" in out


def test_log_formatter_masks_id_numbers():
    import logging

    from kiosk.logsetup import ScrubbingFormatter

    rec = logging.LogRecord("kiosk.x", logging.INFO, __file__, 1, "resident %s", ("11010519491231002X",), None)
    assert "11010519491231002X" not in ScrubbingFormatter("%(message)s").format(rec)
