"""Memory a visit freed goes back to the system once the kiosk is idle again (issue 16:
RSS after visits), never during a visit; long titles shrink on a short ladder of sizes."""

from __future__ import annotations

import json
import os

from tests.test_malloc_tuning import run_probe

# In a fresh process (real glibc): 48 MiB in heap-sized blocks (below every mmap threshold),
# written to, then freed but the last (it keeps the heap's top from shrinking by itself).
PROBE = """
import ctypes, sys
from pathlib import Path
def rss():
    return next(int(l.split()[1]) for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmRSS:"))
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
blocks = [libc.malloc(64 * 1024) for _ in range(768)]
for b in blocks:
    ctypes.memset(b, 1, 64 * 1024)
for b in blocks[:-1]:
    libc.free(b)
before = rss()
if sys.argv[1] == "kiosk":
    from kiosk.core import heap
    heap.trim()
print(before - rss())
"""


def _released_kib(mode: str) -> int:
    return run_probe(PROBE, mode)


def test_freed_heap_blocks_stay_resident_until_the_kiosk_trims_the_heap():
    assert _released_kib("glibc alone") < 4 * 1024  # free() keeps them: RSS does not move
    assert _released_kib("kiosk") > 40 * 1024  # kiosk.core.heap.trim gives back (nearly) all 48 MiB


FREED_MIB = 48


def scenario_tidy_after_the_visit(app):
    import ctypes

    from kivy.core.window import Window

    from kiosk.app import HEAP_TIDY_AFTER
    from kiosk.core.heap import rss_kib
    from tests.ui_helpers import report

    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0) and app.heap_tidies >= 1  # the start's own tidy
    Window.dispatch("on_key_down", 282, 0, None, [])  # F1: a resident lays an ID card
    yield lambda: app.sm.current == "menu"
    # What a visit leaves behind, made visible: heap blocks written to, then freed.
    blocks = [libc.malloc(64 * 1024) for _ in range(FREED_MIB * 16)]
    for b in blocks:
        ctypes.memset(b, 1, 64 * 1024)
    for b in blocks[:-1]:  # the last keeps the heap's top from shrinking on its own
        libc.free(b)
    tidies, freed_at = app.heap_tidies, rss_kib()
    yield HEAP_TIDY_AFTER + 1.5  # the resident reads the menu: nothing is tidied under them
    during = {"tidies": app.heap_tidies - tidies, "rss_drop_kib": freed_at - rss_kib()}
    app.logout("resident pressed logout")
    yield lambda: app.sm.current == "attract"
    at_logout = rss_kib()
    yield lambda: app.heap_tidies > tidies
    report("tidy", {"during": during, "rss_drop_kib": at_logout - rss_kib()})
    libc.free(blocks[-1])


def test_the_memory_a_visit_freed_is_given_back_on_the_attract_screen_not_during_the_visit(run_kiosk, tmp_path):
    proc = run_kiosk("tests.test_heap_tidy:scenario_tidy_after_the_visit", '[devices.sscard]\ndriver = "none"\n')
    got = json.loads((tmp_path / "tidy.json").read_text())
    assert got["during"]["tidies"] == 0 and got["during"]["rss_drop_kib"] < 8 * 1024
    # Most of it (without the tidy < 4 MiB come back, see the probe test); the attract screen
    # allocates in the meantime, more under load (a loaded CI run saw 35 of the 48 MiB back).
    assert got["rss_drop_kib"] > FREED_MIB // 2 * 1024
    assert "idle on the attract screen: freed memory given back, RSS" in proc.stderr


def scenario_long_titles(app):
    from pathlib import Path

    from kivy.core.window import Window

    from kiosk.screens.widgets import title_sizes
    from tests.ui_helpers import report

    def bold_fonts() -> int:  # SDL2_ttf keeps the font file open once per size it opened
        names = [Path(os.readlink(fd)).name.lower() for fd in Path("/proc/self/fd").iterdir() if fd.exists()]
        return sum("bold" in n and n.endswith((".otf", ".ttf")) for n in names)

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0) and app.sm.is_built("photo")  # built late, with its title bar
    yield 0.5
    got = {"bold_fonts_at_start": bold_fonts()}
    Window.dispatch("on_key_down", 282, 0, None, [])  # F1: a resident lays an ID card (the header greets them)
    yield lambda: app.sm.current == "menu"
    app.toggle_elder()  # elder mode: larger titles, more of them shrink
    yield 0.3
    before, sizes = bold_fonts(), set()
    for item in app.catalog.items:
        app.go("guide", item_no=item.no)
        yield 0.1
        sizes.add(app.sm.get_screen("guide").ids.header.title_size)
    theme = app.theme
    got.update({"sizes": sorted(sizes), "ladder": title_sizes(theme.title, theme.body),
                "new_bold_fonts": bold_fonts() - before})
    report("titles", got)


def test_title_bars_open_the_bold_font_at_few_sizes(run_kiosk, tmp_path):
    """Each size a text is measured or drawn at opens the CJK font once more (~2.5 MiB), for good."""
    # A 1024-px wide panel in elder mode: there long item names need smaller titles.
    run_kiosk("tests.test_heap_tidy:scenario_long_titles", '[ui]\nwidth = 1024\nheight = 768\n'
              '[devices.sscard]\ndriver = "none"\n')
    got = json.loads((tmp_path / "titles.json").read_text())
    # Title, body and huge sizes and the demo badge's: a title bar built late (the photo screen's)
    # used to shrink its title at Kivy's placeholder width through every size from 44 to 34.
    assert got["bold_fonts_at_start"] <= 4
    # Forty guide titles in elder mode: some shrink, only along the three-step ladder.
    assert len(got["sizes"]) > 1 and set(got["sizes"]) <= set(got["ladder"]) and len(got["ladder"]) == 3
    assert got["new_bold_fonts"] <= 3


def scenario_list_rebuilt(app):
    from kivy.core.window import Window

    from tests.ui_helpers import report

    yield lambda: app.sm.current == "attract" and app.devices.wait_started(0)
    counts = []
    for visit in range(4):
        Window.dispatch("on_key_down", 282, 0, None, [])  # F1: a resident lays an ID card
        yield lambda: app.sm.current == "menu"
        for item_no in (21, 26, 30):
            app.go("items", category_id=app.catalog.by_no(item_no).category)
            yield 0.1
            app.go("guide", item_no=item_no)
            yield 0.1
        app.logout("resident pressed logout")
        Window.dispatch("on_key_down", 287, 0, None, [])  # F6: card taken away
        yield lambda: not app.devices.idcard_present()  # the reader saw it go: the next F1 is a new card
        yield 1.0  # the scroll bars' 0.5 s fade has run
        counts.append({name: len(app.sm.get_screen(name).ids.scroll.get_property_observers("bar_color"))
                       for name in ("items", "guide")})
    report("scroll", counts)


def test_rebuilt_lists_leave_no_bindings_behind_visit_after_visit(run_kiosk, tmp_path):
    run_kiosk("tests.test_heap_tidy:scenario_list_rebuilt", '[devices.sscard]\ndriver = "none"\n')
    counts = json.loads((tmp_path / "scroll.json").read_text())
    assert counts[-1] == counts[0], counts  # with Kivy's own ScrollView: +3 and +6 bindings per visit here
