"""Search speed: the precomputed index against converting pinyin per query.

    python bench/search.py

Baseline (same run): for every query, convert each item's name and text to
pinyin and scan — what a search without an index would do. Prints per-query
times and the ratio.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypinyin import Style, lazy_pinyin  # noqa: E402

from kiosk.flows.disclosure import load_disclosure
from kiosk.flows.search import SearchIndex

QUERIES = ["yanglao", "yl", "养老", "gongshang", "shbzk", "cxjm yl", "shiye", "zzzz"]


def baseline(items, query: str) -> int:
    hits = 0
    for it in items:
        name_py = "".join(lazy_pinyin(it.name, style=Style.NORMAL))
        initials = "".join(p[0] for p in lazy_pinyin(it.name, style=Style.NORMAL) if p)
        text_py = "".join(lazy_pinyin(it.text, style=Style.NORMAL))
        if query in it.name or query in name_py or query in initials or query in it.text or query in text_py:
            hits += 1
    return hits


def main() -> None:
    for county in ("临县", "云州区", "章贡区"):
        cat = load_disclosure(county)
        t0 = time.perf_counter()
        index = SearchIndex(cat.items)
        build = time.perf_counter() - t0
        rounds = 20
        t0 = time.perf_counter()
        for _ in range(rounds):
            for q in QUERIES:
                index.search(q)
        indexed = (time.perf_counter() - t0) / (rounds * len(QUERIES))
        t0 = time.perf_counter()
        for q in QUERIES:
            baseline(cat.items, q)
        base = (time.perf_counter() - t0) / len(QUERIES)
        print(f"{county}: {len(cat)} items, index build {build * 1000:.1f} ms, "
              f"query {indexed * 1000:.2f} ms (indexed) vs {base * 1000:.1f} ms (pinyin per query), "
              f"ratio {base / indexed:.0f}x")


if __name__ == "__main__":
    main()
