"""An offline pinyin input method for the on-screen keyboard (Kivy has no Chinese IME).

Residents type toneless pinyin letters; the candidate bar offers words whose
pinyin is exactly what was typed (jieba's word list with its frequencies,
plus the place names of the disclosure catalogs), then
single characters of the first syllable: GB2312 level-1 characters (the
3,755 most used) first, then by how many dictionary words use them, so 王
leads the 'wang' list. Pure Python.

Memory: pypinyin's dictionaries cost ~55 MiB once imported, jieba's ~80 MiB.
Both are read only at set-up time (``python -m kiosk.flows.pinyin_ime``,
run by scripts/setup.sh), which writes two compact tables under var/; the
kiosk builds its index from those when the keypad first opens, and never
imports pypinyin or jieba unless the tables are missing.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

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


WORDS_CACHE = "pinyin_words.tsv"
CHARS_CACHE = "pinyin_chars.tsv"
MIN_WORD_FREQ = 20  # jieba frequency: drops rare words that would crowd the candidate bar


def _word_cache_path() -> Path:
    from kiosk import ROOT

    return ROOT / "var" / WORDS_CACHE


def _char_cache_path() -> Path:
    from kiosk import ROOT

    return ROOT / "var" / CHARS_CACHE


def build_word_table() -> list[tuple[str, str, int]]:
    """(pinyin, word, frequency) for common 2-4 character words. Slow (~2 s): run at set-up."""
    import os

    import jieba
    from pypinyin import lazy_pinyin

    rows: list[tuple[str, str, int]] = []
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 2 or not 2 <= len(parts[0]) <= 4 or int(parts[1]) < MIN_WORD_FREQ:
                continue
            word = parts[0]
            if any(_common_rank(c) == 2 or not "\u4e00" <= c <= "\u9fff" for c in word):
                continue
            rows.append(("".join(_plain(p) for p in lazy_pinyin(word)), word, int(parts[1])))
    for place in _place_names():
        rows.append(("".join(_plain(p) for p in lazy_pinyin(place)), place, 10_000))
    return rows


def _place_names() -> set[str]:
    """County names residents type for a work place (from the shipped disclosure catalogs)."""
    names = {"临县", "云州区", "章贡区", "吕梁", "大同", "赣州", "太原", "山西", "离石", "兴县", "方山"}
    return {n for n in names if 2 <= len(n) <= 4}


def _write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.replace(path)


def write_word_cache(path: Path | None = None) -> int:
    rows = build_word_table()
    _write_lines(path or _word_cache_path(), [f"{p}\t{w}\t{f}\n" for p, w, f in rows])
    return len(rows)


def write_char_cache(path: Path | None = None) -> int:
    """syllable<TAB>characters, best first: the keypad's single-character table without pypinyin."""
    table = build_char_table()
    _write_lines(path or _char_cache_path(), [f"{syl}\t{''.join(chars)}\n" for syl, chars in sorted(table.items())])
    return len(table)


def _load_chars() -> dict[str, list[str]]:
    path = _char_cache_path()
    if path.exists():
        table = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            syl, _tab, chars = line.partition("\t")
            table[syl] = list(chars)
        if table:
            return table
    return build_char_table()  # no set-up table: from pypinyin (slow, +55 MiB)


def _load_words() -> dict[str, list[str]]:
    path = _word_cache_path()
    if path.exists():
        fields = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
        rows = [(p, w, int(f)) for p, w, f in fields]
    else:
        rows = build_word_table()  # no set-up cache: build now (on the warm-up thread)
    words: dict[str, list[tuple[int, str]]] = {}
    for p, w, f in rows:
        words.setdefault(p, []).append((-f, w))
    return {k: [w for _f, w in sorted(v)] for k, v in words.items()}


@dataclass(frozen=True)
class _Index:
    chars: dict[str, list[str]]  # syllable -> characters, common first
    words: dict[str, list[str]]  # concatenated syllables -> words
    syllables: frozenset[str]


@functools.lru_cache(maxsize=1)
def _index() -> _Index:
    chars = _load_chars()
    return _Index(chars, _load_words(), frozenset(chars))


def build_char_table() -> dict[str, list[str]]:
    """syllable -> GB2312 characters with that reading, common first. Slow (pypinyin): run at set-up."""
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
    return {k: [c for *_key, c in sorted(v)] for k, v in chars.items()}


def warm_up() -> None:
    """Build the index ahead of time (call from a worker thread when the keypad opens)."""
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


if __name__ == "__main__":  # python -m kiosk.flows.pinyin_ime: build both tables at set-up time
    import sys

    n = write_word_cache()
    m = write_char_cache()
    if "--quiet" not in sys.argv:
        print(f"pinyin word cache: {n} words in {_word_cache_path()}")
        print(f"pinyin character table: {m} syllables in {_char_cache_path()}")
