"""Chinese line breaking (禁则): no wrapped line starts with a closing mark, none ends with an opening one."""

from kiosk.screens.kinsoku import broken_breaks, kinsoku_text


def wrap(text: str, width: int) -> list[tuple[str, bool]]:
    """Kivy's wrapping of text without spaces: at whatever character overflows ``width``."""
    out = []
    for para in text.split("\n"):
        for i in range(0, max(1, len(para)), width):
            out.append((para[i:i + width], i > 0))
    return out


def mend(text: str, width: int, passes: int = 12) -> list[str]:
    for _ in range(passes):
        fixed = kinsoku_text(text, wrap(text, width))
        if fixed is None:
            break
        text = fixed
    return [t for t, _ in wrap(text, width)]


def test_a_comma_that_would_start_a_line_takes_the_character_before_it_along():
    text = "请带上身份证，到柜台办理"
    assert broken_breaks(wrap(text, 6)) == ["line 2 starts with '，到柜台办理'"]
    assert mend(text, 6) == ["请带上身份", "证，到柜台办", "理"]


def test_the_text_after_a_mended_break_flows_again_and_no_fragment_is_left_alone():
    # Two full lines in a row, each followed by a comma: moving a character down must not
    # push the next full line over its width and strand its last character (seen on guide 4).
    text = "一二三四五六七八，九十一二三四五六，七八九十"
    lines = mend(text, 8)
    assert broken_breaks([(t, i > 0) for i, t in enumerate(lines)]) == []
    assert "".join(lines) == text and min(len(t) for t in lines[:-1]) >= 6


def test_marks_in_a_row_travel_together_and_an_opening_quote_never_ends_a_line():
    assert mend("请点下一步。”好的", 6) == ["请点下一", "步。”好的"]
    lines = mend("请点击“确认提交”按钮", 3)
    assert broken_breaks([(t, i > 0) for i, t in enumerate(lines)]) == []
    assert "".join(lines) == "请点击“确认提交”按钮"


def test_lines_of_the_text_itself_are_kept_and_need_no_mending():
    assert kinsoku_text("第一行\n，第二行", [("第一行", False), ("，第二行", False)]) is None  # a newline, not a wrap
    assert kinsoku_text("一二三四五六七八", wrap("一二三四五六七八", 4)) is None


def test_a_line_of_marks_only_is_left_alone_rather_than_emptied():
    assert kinsoku_text("。，，", [("。", False), ("，，", True)]) is None
