"""Chinese line-breaking rules (禁则), pure: which laid-out lines break them, and how to mend them.

No Kivy here (``kiosk.screens.line_breaks`` applies them to every label; the
layout audit reports what still breaks them), so the rules are tested with
plain lists of lines.
"""

from __future__ import annotations

#: A line must not start with these (closing marks stay with what they close).
NO_LINE_START = "，。、；：！？）》」』”’…%.,;:!?)"
#: A line must not end with these (opening marks stay with what they open).
NO_LINE_END = "（《「『“‘("
_MOST_MOVED = 3  # characters pulled down at one break ("字。”" is three)


def kinsoku_text(text: str, lines: list[tuple[str, bool]]) -> str | None:
    """``text`` with one line break made explicit so its first rule-breaking wrap is mended,
    or None when no wrap breaks a rule.

    ``lines``: how ``text`` was laid out: each line's text and whether it continues the
    line before it (a wrap, not a newline of the text). At the first wrapped line that
    starts with a closing mark, the characters that must travel with the mark (the one
    before it, and marks before that) start a new line instead; likewise an opening mark
    at a line's end goes down with what follows. Everything after the new break is left
    to flow again, so the next layout may wrap it differently; lay out the result and
    call again until None (one mend per pass).
    """
    starts = _line_starts(text, lines)
    if starts is None:
        return None
    for i in range(1, len(lines)):
        if not lines[i][1]:
            continue
        prev, cur = lines[i - 1][0], lines[i][0]
        move = 0
        if cur and cur[0] in NO_LINE_START:
            # the mark and any marks before it travel with the character they belong to
            move = 1
            while move < len(prev) and move < _MOST_MOVED and prev[-move] in NO_LINE_START:
                move += 1
        # an opening mark never ends a line (also after the move above)
        while move < len(prev) - 1 and move < _MOST_MOVED and prev[-(move + 1)] in NO_LINE_END:
            move += 1
        if 0 < move < len(prev):
            cut = starts[i - 1] + len(prev) - move
            return text[:cut] + "\n" + text[cut:]
    return None


def _line_starts(text: str, lines: list[tuple[str, bool]]) -> list[int] | None:
    """Where each laid-out line begins in ``text`` (layout only drops spaces and newlines between
    lines); None if the lines are not the text's (then nothing is mended)."""
    starts, pos = [], 0
    for line, _wrapped in lines:
        at = text.find(line, pos) if line else pos
        if at < 0 or text[pos:at].strip():
            return None
        starts.append(at)
        pos = at + len(line)
    return starts


def broken_breaks(lines: list[tuple[str, bool]]) -> list[str]:
    """Where a wrap breaks the rules: ``"，…"`` for a wrapped line starting with a closing mark,
    ``"…“"`` for a line ending with an opening mark before a wrap."""
    out = []
    for i in range(1, len(lines)):
        if not lines[i][1]:
            continue
        prev, cur = lines[i - 1][0].rstrip(" "), lines[i][0]
        if cur and cur[0] in NO_LINE_START:
            out.append(f"line {i + 1} starts with {cur[:6]!r}")
        if prev and prev[-1] in NO_LINE_END:
            out.append(f"line {i} ends with {prev[-6:]!r}")
    return out
