"""Two-line screen titles break near the middle: never a lone character on the second line."""

from kiosk.screens.widgets import balanced_lines


def fits_in(chars: int):
    return lambda part: len(part) <= chars


def test_long_item_name_breaks_near_the_middle_not_before_its_last_character():
    title = "1-1.\u00a0企业事业单位失业保险参保登记"  # greedy wrapping left "记" alone on line 2
    first, second = balanced_lines(title, fits_in(16)).split("\n")
    assert first.startswith("1-1.\u00a0") and first + second == title
    assert abs(len(first) - len(second)) <= 3


def test_item_number_and_ascii_words_stay_whole():
    assert balanced_lines("30.\u00a0参加城乡居民", fits_in(4)) == "30.\u00a0参加城乡居民"  # no break fits after "30. "
    first, second = balanced_lines("社保卡ABC123补换", fits_in(8)).split("\n")
    assert not (first[-1].isalnum() and first[-1].isascii() and second[0].isascii() and second[0].isalnum())


def test_closing_marks_never_start_a_line():
    out = balanced_lines("请到柜台办理，带上身份证", fits_in(7))
    assert not out.split("\n")[1].startswith("，")


def test_a_title_no_break_can_hold_is_left_to_wrap():
    assert balanced_lines("很长很长很长很长很长", fits_in(3)) == "很长很长很长很长很长"
