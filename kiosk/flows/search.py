"""Find a service by characters, full pinyin or pinyin initials (pure, Kivy-free).

Residents who read few characters type ``yanglao`` or ``yl`` for 养老; both
find every 养老 item. The index is built once per catalog (pinyin of every
name and guide text) and queries are then plain string work.

Ranking, best first:

====  ===========================================================
 100  the query is the item number, or the whole name
  90  name contains the query characters (95 if the name starts with it)
  80  name matches in full pinyin (``yanglao``; the last syllable may be a prefix)
  70  name matches by initials or initials mixed with syllables (``yl``, ``ylbx``, ``yanglbx``)
  40  guide text contains the query characters
  30  guide text matches in full pinyin (at least 3 letters)
====  ===========================================================

Within one score, items the kiosk completes (``kiosk_mode`` not ``counter``; without it, ``"kiosk" in channels``) come
first, then catalog order. Several words separated by spaces must all match;
the item's score is that of its weakest word.

Items are anything with ``no``, ``name`` and ``channels`` (attributes or dict
keys) plus searchable text: a ``text`` field, or ``content`` and a ``guide``
dict/str (the service catalog's shape), or ``summary``/``elements`` (the
disclosure catalog's shape).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

from pypinyin import Style, pinyin

SCORE_NO = 100
SCORE_NAME_EXACT = 100
SCORE_NAME_PREFIX = 95
SCORE_NAME_CHARS = 90
SCORE_NAME_PINYIN = 80
SCORE_NAME_INITIALS = 70
SCORE_TEXT_CHARS = 40
SCORE_TEXT_PINYIN = 30
TEXT_PINYIN_MIN = 3  # shorter letter runs hit too much unrelated guide text

# Everyday short forms residents type for the official names (社保卡 for
# 社会保障卡). A query containing one is also tried with the full form, in
# characters, full pinyin and initials; such a match scores one point less.
ALIASES = {
    "社保卡": "社会保障卡",
    "社保": "社会保险",
    "医保": "医疗保险",
    "工伤险": "工伤保险",
    "养老金": "养老保险待遇",
    "退休金": "养老保险待遇",
}

_HAN = re.compile(r"[\u3400-\u9fff]")
_SEP = re.compile(r"[\s,，;；/]+")


@runtime_checkable
class Searchable(Protocol):
    """What search needs from an item (dataclass or dict)."""

    no: Any
    name: str
    channels: Sequence[str]


@dataclass(frozen=True)
class Match:
    item: Any
    no: Any
    name: str
    score: int
    field: str  # "no", "name" or "text"
    kind: str  # "number", "chars", "pinyin" or "initials"
    kiosk: bool
    span: tuple[int, int] | None = None  # matched characters of the name, for highlighting
    snippet: str = ""  # text around a guide-text match


def _alias_forms() -> list[tuple[str, str]]:
    forms: list[tuple[str, str]] = []
    for short, full in ALIASES.items():
        s_py = [p[0] for p in pinyin(short, style=Style.NORMAL)]
        f_py = [p[0] for p in pinyin(full, style=Style.NORMAL)]
        forms += [
            (short, full),
            ("".join(s_py), "".join(f_py)),
            ("".join(x[0] for x in s_py), "".join(x[0] for x in f_py)),
        ]
    return sorted(forms, key=lambda f: len(f[0]), reverse=True)


_ALIAS_FORMS = _alias_forms()


def _variants(term: str) -> list[str]:
    out = [term]
    for short, full in _ALIAS_FORMS:
        if short in term:
            v = term.replace(short, full)
            if v not in out:
                out.append(v)
    return out


def _get(item: Any, key: str, default: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(key, default)
    return getattr(item, key, default)


def _flatten(value: Any) -> Iterable[str]:
    if value is None:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _flatten(v)
    elif isinstance(value, Iterable):
        for v in value:
            yield from _flatten(v)
    elif hasattr(value, "__dataclass_fields__"):
        for f in value.__dataclass_fields__:
            yield from _flatten(getattr(value, f))
    else:
        yield str(value)


def item_text(item: Any) -> str:
    """All searchable text of an item except its name."""
    text = _get(item, "text")
    if callable(text):
        text = text()
    if text is None:
        parts = [_get(item, k) for k in ("content", "guide", "summary", "elements")]
        text = "\n".join(_flatten(parts))
    return text if isinstance(text, str) else "\n".join(_flatten(text))


@dataclass(frozen=True)
class _Syllables:
    """Pinyin of a text: per kept character its readings and its index in the text."""

    readings: tuple[tuple[str, ...], ...]
    index: tuple[int, ...]


def _each_char(s: str) -> Any:
    """pypinyin's ``errors`` hook: one entry per non-Han character (a list; its stubs say str)."""
    return list(s)


def _syllables(text: str) -> _Syllables:
    readings: list[tuple[str, ...]] = []
    index: list[int] = []
    raw = pinyin(text, style=Style.NORMAL, heteronym=True, errors=_each_char)
    for i, (ch, rs) in enumerate(zip(text, raw, strict=False)):
        if _HAN.match(ch):
            readings.append(tuple(dict.fromkeys(r.lower() for r in rs if r)))
            index.append(i)
        elif ch.isascii() and ch.isalnum():
            readings.append((ch.lower(),))
            index.append(i)
        # punctuation and spaces are transparent to pinyin matching
    return _Syllables(tuple(readings), tuple(index))


def _flat_pinyin(text: str) -> tuple[str, frozenset[int], list[int]]:
    """Contextual pinyin of a long text as one string, syllable starts, and char positions."""
    out: list[str] = []
    starts: list[int] = []
    owner: list[int] = []
    pos = 0
    raw = pinyin(text, style=Style.NORMAL, errors=_each_char)
    for i, (ch, rs) in enumerate(zip(text, raw, strict=False)):
        if not (_HAN.match(ch) or (ch.isascii() and ch.isalnum())):
            continue
        syl = (rs[0] if rs else ch).lower()
        starts.append(pos)
        owner.append(i)
        out.append(syl)
        pos += len(syl)
    return "".join(out), frozenset(starts), _owner_map(starts, owner, pos)


def _owner_map(starts: list[int], owner: list[int], total: int) -> list[int]:
    m = [0] * total
    for k, s in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else total
        for p in range(s, end):
            m[p] = owner[k]
    return m


def _match_syllables(q: str, syl: _Syllables, full_only: bool) -> tuple[int, int] | None:
    """Char span of the first run of syllables that spells ``q``.

    full_only: every syllable but the last must be typed in full.
    Otherwise any non-empty prefix of each syllable counts (initials, mixed).
    """
    n = len(syl.readings)
    for start in range(n):
        states = {0}
        i = start
        while states and i < n:
            nxt: set[int] = set()
            for j in states:
                for r in syl.readings[i]:
                    if full_only:
                        if q.startswith(r, j):
                            nxt.add(j + len(r))
                        elif r.startswith(q[j:]):
                            nxt.add(len(q))
                    else:
                        k = 1
                        while k <= len(r) and j + k <= len(q) and r[k - 1] == q[j + k - 1]:
                            nxt.add(j + k)
                            k += 1
            if len(q) in nxt:
                return syl.index[start], syl.index[i] + 1
            states = {j for j in nxt if j < len(q)}
            i += 1
    return None


@dataclass(frozen=True)
class _Entry:
    pos: int
    item: Any
    no: Any
    name: str
    name_lower: str
    kiosk: bool
    name_syl: _Syllables
    text: str
    text_lower: str
    text_py: str
    text_starts: frozenset[int]
    text_owner: list[int]


def _snippet(text: str, at: int, length: int, width: int = 14) -> str:
    a = max(0, at - width)
    b = min(len(text), at + length + width)
    s = text[a:b].replace("\n", " ")
    return ("…" if a > 0 else "") + s + ("…" if b < len(text) else "")


class SearchIndex:
    """Precomputed pinyin of one catalog; :meth:`search` is then cheap."""

    def __init__(self, items: Iterable[Any]):
        entries = []
        for pos, item in enumerate(items):
            name = str(_get(item, "name", "") or "")
            channels = _get(item, "channels", ()) or ()
            mode = _get(item, "kiosk_mode", None)
            text = item_text(item)
            flat, starts, owner = _flat_pinyin(text)
            entries.append(
                _Entry(
                    pos=pos,
                    item=item,
                    no=_get(item, "no"),
                    name=name,
                    name_lower=name.lower(),
                    kiosk=(mode != "counter") if mode else "kiosk" in channels,
                    name_syl=_syllables(name),
                    text=text,
                    text_lower=text.lower(),
                    text_py=flat,
                    text_starts=starts,
                    text_owner=owner,
                )
            )
        self.entries: tuple[_Entry, ...] = tuple(entries)

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, query: str, limit: int | None = None) -> list[Match]:
        terms = [t for t in _SEP.split((query or "").strip().lower()) if t]
        if not terms:
            return []
        found: list[Match] = []
        for e in self.entries:
            best: Match | None = None
            for term in terms:
                m = None
                for k, variant in enumerate(_variants(term)):
                    got = self._match_term(e, variant)
                    if got is not None and k:
                        got = replace(got, score=got.score - 1)
                    if got is not None and (m is None or got.score > m.score):
                        m = got
                if m is None:
                    best = None
                    break
                if best is None or m.score < best.score:
                    best = m
            if best is not None:
                found.append(best)
        order = {id(e.item): e.pos for e in self.entries}
        found.sort(key=lambda m: (-m.score, not m.kiosk, order[id(m.item)]))
        return found[:limit] if limit is not None else found

    @staticmethod
    def _match_term(e: _Entry, term: str) -> Match | None:
        def mk(score: int, field: str, kind: str, span: tuple[int, int] | None = None, snippet: str = "") -> Match:
            return Match(e.item, e.no, e.name, score, field, kind, e.kiosk, span, snippet)

        if term.isdigit() and e.no is not None and term == str(e.no).lower():
            return mk(SCORE_NO, "no", "number")
        at = e.name_lower.find(term)
        if at >= 0:
            if len(term) == len(e.name_lower):
                return mk(SCORE_NAME_EXACT, "name", "chars", (0, len(e.name)))
            score = SCORE_NAME_PREFIX if at == 0 else SCORE_NAME_CHARS
            return mk(score, "name", "chars", (at, at + len(term)))
        letters = term.replace("'", "")
        is_pinyin = letters.isascii() and letters.isalpha()
        if is_pinyin:
            span = _match_syllables(letters, e.name_syl, full_only=True)
            if span:
                return mk(SCORE_NAME_PINYIN, "name", "pinyin", span)
            span = _match_syllables(letters, e.name_syl, full_only=False)
            if span:
                return mk(SCORE_NAME_INITIALS, "name", "initials", span)
        at = e.text_lower.find(term)
        if at >= 0:
            return mk(SCORE_TEXT_CHARS, "text", "chars", snippet=_snippet(e.text, at, len(term)))
        if is_pinyin and len(letters) >= TEXT_PINYIN_MIN:
            p = e.text_py.find(letters)
            while p >= 0:
                if p in e.text_starts:
                    c = e.text_owner[p]
                    return mk(SCORE_TEXT_PINYIN, "text", "pinyin", snippet=_snippet(e.text, c, 2))
                p = e.text_py.find(letters, p + 1)
        return None


def _items_of(catalog: Any) -> list[Any]:
    items = catalog.items if hasattr(catalog, "items") and not isinstance(catalog, Mapping) else catalog
    if callable(items):
        items = items()
    if isinstance(items, Mapping):
        items = items.values()
    return list(items)


_CACHE_SIZE = 8
_cache: OrderedDict[int, tuple[Any, int, SearchIndex]] = OrderedDict()
_cache_lock = threading.Lock()


def index_for(catalog: Any) -> SearchIndex:
    """The index of ``catalog``, built on first use and kept for later queries.

    Catalogs are treated as immutable; a catalog whose item count changed
    gets a fresh index.
    """
    if isinstance(catalog, SearchIndex):
        return catalog
    items = _items_of(catalog)
    key = id(catalog)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] is catalog and hit[1] == len(items):
            _cache.move_to_end(key)
            return hit[2]
    index = SearchIndex(items)
    with _cache_lock:
        _cache[key] = (catalog, len(items), index)  # holding the catalog keeps its id unique
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return index


def search(catalog: Any, query: str, limit: int | None = None) -> list[Match]:
    """Matches of ``query`` in ``catalog`` (a catalog with ``.items``, a list of items, or a SearchIndex), best first."""
    return index_for(catalog).search(query, limit)
