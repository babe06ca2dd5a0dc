"""An offline pinyin input method for the on-screen keyboard (Kivy has no Chinese IME).

Residents type toneless pinyin letters; the candidate bar offers words whose
pinyin is exactly what was typed (from pypinyin's phrase dictionary), then
single characters of the first syllable: GB2312 level-1 characters (the
3,755 most used) first, then by how many dictionary words use them, so 王
leads the 'wang' list. Pure Python; the index is built once (~0.3 s) on first use.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

MAX_CANDIDATES = 24


def _plain(syllable: str) -> str:
    """Strip tone marks: 'hóng' -> 'hong', 'lǜ' -> 'lv' (the keyboard's ü)."""
    s = syllable.replace("ü", "v").replace("ǖ", "v").replace("ǘ", "v").replace("ǚ", "v").replace("ǜ", "v")
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def _common_rank(ch: str) -> int:
    """0 for GB2312 level-1 characters, 1 for level 2, 2 for anything else."""
    try:
        b = ch.encode("gb2312")
    except UnicodeEncodeError:
        return 2
    return 0 if b[0] < 0xD8 else 1


@dataclass(frozen=True)
class _Index:
    chars: dict[str, list[str]]      # syllable -> characters, common first
    words: dict[str, list[str]]      # concatenated syllables -> words
    syllables: frozenset[str]


@functools.lru_cache(maxsize=1)
def _index() -> _Index:
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    # How many dictionary words use a character: a frequency proxy (no corpus ships offline).
    uses: dict[str, int] = {}
    for word in phrases_dict:
        for c in word:
            uses[c] = uses.get(c, 0) + 1
    chars: dict[str, list[tuple[int, int, int, str]]] = {}
    for code, readings in pinyin_dict.items():
        ch = chr(code)
        rank = _common_rank(ch)
        if rank == 2:
            continue  # outside GB2312: not worth a slot in a villager's candidate bar
        for i, reading in enumerate(readings.split(",")):
            chars.setdefault(_plain(reading), []).append((rank, i, -uses.get(ch, 0), ch))
    char_lists = {k: [c for *_key, c in sorted(v)] for k, v in chars.items()}
    words: dict[str, list[str]] = {}
    for word, readings in phrases_dict.items():
        if len(word) > 4 or any(_common_rank(c) == 2 for c in word):
            continue
        key = "".join(_plain(r[0]) for r in readings)
        words.setdefault(key, []).append(word)
    return _Index(char_lists, words, frozenset(char_lists))


def warm_up() -> None:
    """Build the index ahead of time (call from a worker thread)."""
    _index()


def first_syllable(letters: str) -> str:
    """The longest valid syllable at the start of ``letters`` ('' if none)."""
    idx = _index()
    for n in range(min(6, len(letters)), 0, -1):
        if letters[:n] in idx.syllables:
            return letters[:n]
    return ""


def candidates(letters: str, limit: int = MAX_CANDIDATES) -> list[tuple[str, int]]:
    """(text, letters consumed) choices for what was typed, best first."""
    letters = re.sub(r"[^a-z]", "", letters.lower())
    if not letters:
        return []
    idx = _index()
    out: list[tuple[str, int]] = []
    seen: set[str] = set()
    for word in idx.words.get(letters, []):
        if word not in seen:
            seen.add(word)
            out.append((word, len(letters)))
    syl = first_syllable(letters)
    if syl:
        for ch in idx.chars.get(syl, []):
            if ch not in seen:
                seen.add(ch)
                out.append((ch, len(syl)))
            if len(out) >= limit:
                break
    return out[:limit]
