"""Kiosk memory over many visits: RSS after start vs after 50 simulated visits,
against a bare Kivy window doing comparable widget churn, in the same run.

    /work/venv/bin/python bench/memory.py [--visits 50]

Kiosk (``python -m kiosk.runner --script bench.memory:scenario_visits`` on
embedded defaults, under Xvfb when DISPLAY is unset): each visit is a login
(even visits: the simulated ID card, F1; odd visits: the e-SSC QR code shown
to the camera, F9, so the camera preview texture is exercised), the menu,
item 26 (pension payment records, a platform query), the receipt printed,
the print popup closed, logout (session wipe) and the ID card taken away.

Baseline (same run, separate process): a bare Kivy window that, per "visit",
builds a screen of 120 labels and 12 buttons, draws it, and removes it.

Reported (RSS from /proc/self/status after gc.collect(), live Python
objects from gc): after start, after visit 1 (first-use caches warm), after
the last visit; growth per visit as the least-squares slope over visits
10..N (after warm-up), and the ratios kiosk/bare. A leak shows as a slope
that does not flatten: a retained session or a texture per camera frame
would add roughly tens of kB to MBs per visit.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

F1, F6, F9 = 282, 287, 290


def rss_kib(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field}")


def sample(label) -> dict:
    gc.collect()
    # Objects the kiosk froze out of the collector after its start (kiosk.core.heap) count too.
    return {"at": label, "rss_kib": rss_kib(), "peak_kib": rss_kib("VmHWM"),
            "objects": len(gc.get_objects()) + gc.get_freeze_count()}


def _visits() -> int:
    return int(os.environ.get("KIOSK_BENCH_VISITS", "50"))


def _out(data) -> None:
    Path(os.environ["KIOSK_BENCH_OUT"]).write_text(json.dumps(data), encoding="utf-8")


# ------------------------------------------------------------ in the kiosk process

def scenario_visits(app):
    from kivy.core.window import Window

    from kiosk.screens.printing import PrintPopup
    from tests.ui_helpers import find_button, flow_step, press, printed, tap

    def key(k: int) -> None:
        Window.dispatch("on_key_down", k, 0, None, [])

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0) and app.devices.camera is not None
    yield 1.0
    samples = [sample(0)]
    how = []
    latencies = []
    for visit in range(1, _visits() + 1):
        qr = visit % 2 == 1
        if qr:
            key(F9)  # the resident's phone shows a fresh e-SSC code to the camera
        else:
            key(F1)  # the ID card laid on the reader
        yield lambda: app.sm.current == "menu"
        how.append(app.sessions.current.person.source)
        yield 0.2
        t0 = time.monotonic()  # touch -> screen, as bench/soak.py: the tap -> the list on the next frame
        tap(find_button(Window, "我要办社保"))
        yield lambda: app.sm.current == "items"
        yield 0
        latencies.append(time.monotonic() - t0)
        yield from press("26.")
        yield lambda: app.sm.current == "guide"
        yield from press("开始办理")
        yield flow_step(app, "result")
        app.last_print = None
        yield from press("打印回执")
        yield printed(app)
        yield from press("关闭")
        yield lambda: not any(isinstance(w, PrintPopup) for w in Window.children)
        tidies = getattr(app, "heap_tidies", None)
        app.logout("resident pressed logout")  # what the 退出 button does
        yield lambda: app.sm.current == "attract" and app.sessions.current.person is None
        if not qr:
            key(F6)  # card taken away
        yield 0.6  # the attract screen's camera preview runs between visits
        if tidies is not None:  # the kiosk gives the visit's freed memory back when idle (kiosk.core.heap)
            yield lambda: app.heap_tidies > tidies
        samples.append(sample(visit))
    _out({"samples": samples, "logins": how, "latency_s": latencies})


# ------------------------------------------------------------ bare baseline

BARE = r"""
import json, os, sys
sys.path.insert(0, sys.argv[2])
os.environ["KIVY_NO_ARGS"] = "1"
from kivy.config import Config
Config.set("graphics", "width", "1280"); Config.set("graphics", "height", "800")
from kivy.app import App
from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from bench.memory import sample

N = int(sys.argv[3])

class Bare(App):
    def build(self):
        self.root_box = BoxLayout()
        return self.root_box

    def on_start(self):
        self.samples = []
        self.visit = 0
        Clock.schedule_once(self.first, 1.0)

    def first(self, _dt):
        self.samples.append(sample(0))
        Clock.schedule_once(self.build_screen, 0)

    def build_screen(self, _dt):
        self.visit += 1
        grid = GridLayout(cols=6)
        for i in range(120):
            grid.add_widget(Label(text=f"row {self.visit} cell {i}"))
        for i in range(12):
            grid.add_widget(Button(text=f"button {i}"))
        self.root_box.add_widget(grid)
        Clock.schedule_once(self.tear_down, 0.3)

    def tear_down(self, _dt):
        self.root_box.clear_widgets()
        Clock.schedule_once(self.after, 0.3)

    def after(self, _dt):
        self.samples.append(sample(self.visit))
        if self.visit >= N:
            open(sys.argv[1], "w").write(json.dumps({"samples": self.samples}))
            self.stop()
        else:
            Clock.schedule_once(self.build_screen, 0)

Bare().run()
"""


# ------------------------------------------------------------ driver (outside)

def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def slope(samples: list[dict], key: str, start: int) -> float:
    pts = [(s["at"], s[key]) for s in samples if s["at"] >= start]
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    den = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / den if den else 0.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--visits", type=int, default=50)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from kiosk.display import ensure_display

    display = ensure_display(1280, 800, announce=False)
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-mem-"))
    env = dict(os.environ, KIVY_HOME=str(tmp / "kivy"), SDL_AUDIODRIVER="dummy", KIVY_NO_CONSOLELOG="1",
               KIOSK_BENCH_VISITS=str(args.visits),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    cfg = tmp / "kiosk.toml"
    cfg.write_text(f'[ui]\nfullscreen = false\n[platform]\nurl = "http://127.0.0.1:{free_port()}"\n'
                   f'[storage]\ndir = "{tmp / "var"}"\n', encoding="utf-8")
    bare_py = tmp / "bare.py"
    bare_py.write_text(BARE)
    try:
        out_b = tmp / "bare.json"
        p = subprocess.run([sys.executable, str(bare_py), str(out_b), str(ROOT), str(args.visits)],
                           env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
        if p.returncode != 0 or not out_b.exists():
            raise SystemExit(f"bare run failed:\n{p.stderr[-3000:]}")
        out_k = tmp / "kiosk.json"
        p = subprocess.run([sys.executable, "-m", "kiosk.runner", "--script", "bench.memory:scenario_visits",
                            "--config", str(cfg)], env=dict(env, KIOSK_BENCH_OUT=str(out_k), KIOSK_TEST_OUT=str(tmp)),
                           cwd=ROOT, capture_output=True, text=True, timeout=1200)
        if p.returncode != 0 or not out_k.exists():
            raise SystemExit(f"kiosk run failed (exit {p.returncode}):\n{p.stderr[-5000:]}")
        kiosk_log = p.stderr
    finally:
        if display:
            display.stop()
    bare = json.loads(out_b.read_text())["samples"]
    kio = json.loads(out_k.read_text())
    ks, logins = kio["samples"], kio["logins"]
    lat = sorted(x * 1000 for x in kio.get("latency_s", []))
    n = args.visits
    warm = min(10, n - 1)

    def row(name: str, s: list[dict]) -> dict:
        by = {x["at"]: x for x in s}
        return {"name": name, "start": by[0]["rss_kib"], "v1": by[1]["rss_kib"], "end": by[n]["rss_kib"],
                "slope": slope(s, "rss_kib", warm), "obj_start": by[0]["objects"], "obj_v1": by[1]["objects"],
                "obj_end": by[n]["objects"], "obj_slope": slope(s, "objects", warm)}

    rb, rk = row("bare Kivy window", bare), row("kiosk", ks)
    mid = (warm + n) // 2
    print(f"RSS (MiB, after gc.collect) over {n} visits; growth per visit = slope over visits {warm}..{n}")
    print(f"kiosk logins: {logins.count('idcard')} ID card, {logins.count('qr')} e-SSC QR, "
          f"other {len(logins) - logins.count('idcard') - logins.count('qr')}")
    print(f"{'process':<18} {'start':>8} {'visit 1':>8} {'visit ' + str(n):>9} {'growth/visit':>13}   "
          f"{'objects start':>13} {'visit ' + str(n):>9} {'objects/visit':>13}")
    for r in (rb, rk):
        print(f"{r['name']:<18} {r['start'] / 1024:>8.1f} {r['v1'] / 1024:>8.1f} {r['end'] / 1024:>9.1f} "
              f"{r['slope']:>10.1f} KiB   {r['obj_start']:>13} {r['obj_end']:>9} {r['obj_slope']:>13.1f}")
    for r, s_ in ((rb, bare), (rk, ks)):
        print(f"  {r['name']:<16} growth/visit visits {warm}..{mid}: {slope([x for x in s_ if x['at'] <= mid], 'rss_kib', warm):7.1f} KiB"
              f"   visits {mid}..{n}: {slope(s_, 'rss_kib', mid):7.1f} KiB")
    print(f"  peak RSS (VmHWM) over the run: kiosk {ks[-1].get('peak_kib', 0) / 1024:.0f} MiB, "
          f"bare {bare[-1].get('peak_kib', 0) / 1024:.0f} MiB")
    print("  kiosk RSS every 5 visits (MiB): " + " ".join(f"{x['rss_kib'] / 1024:.0f}" for x in ks if x["at"] % 5 == 0))
    if lat:
        print(f"  touch -> screen (tap on 我要办社保 -> its list on the next frame), {len(lat)} visits: "
              f"p50 {lat[len(lat) // 2]:.0f} ms, p95 {lat[min(len(lat) - 1, int(len(lat) * 0.95))]:.0f} ms, "
              f"max {lat[-1]:.0f} ms")
    tidy = [tuple(map(float, m)) for m in re.findall(
        r"malloc_trim ([0-9.]+) ms.*?gc ([0-9.]+) ms \(CPU ([0-9.]+) ms\)", kiosk_log)][1:]  # [0] also froze the start
    if tidy:
        def q(xs: list[float]) -> str:
            xs = sorted(xs)
            return f"median {xs[len(xs) // 2]:.1f}, max {xs[-1]:.1f}"

        print(f"  kiosk's tidy after each of {len(tidy)} visits (ms): collection {q([t[1] for t in tidy])} "
              f"(CPU {q([t[2] for t in tidy])}); malloc_trim {q([t[0] for t in tidy])}")
    print(f"  MALLOC_ARENA_MAX={os.environ.get('MALLOC_ARENA_MAX', 'unset (glibc default 8 x cores)')}")
    print("ratios kiosk/bare:")
    print(f"  RSS after start        x{rk['start'] / rb['start']:.2f}")
    print(f"  RSS after {n} visits    x{rk['end'] / rb['end']:.2f}")
    print(f"  growth from visit 1 to {n}: kiosk {(rk['end'] - rk['v1']) / 1024:+.1f} MiB "
          f"({(rk['end'] - rk['v1']) / rk['v1'] * 100:+.1f} %), bare {(rb['end'] - rb['v1']) / 1024:+.1f} MiB "
          f"({(rb['end'] - rb['v1']) / rb['v1'] * 100:+.1f} %)")
    if args.json:
        print(json.dumps({"bare": bare, "kiosk": ks}, indent=None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
