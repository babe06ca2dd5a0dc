"""Cold start: process start -> attract screen drawn, kiosk vs a bare Kivy window.

Runs each 5 times under one virtual display, alternating, and prints medians
and the ratio. Usage: python bench/cold_start.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BARE = r"""
import os, sys, time
os.environ["KIVY_NO_ARGS"] = "1"
from kivy.config import Config
Config.set("graphics", "width", "1280"); Config.set("graphics", "height", "800")
from kivy.app import App
from kivy.clock import Clock
from kivy.uix.label import Label

class Bare(App):
    def build(self):
        return Label(text="hello")
    def on_start(self):
        def drawn(_dt):
            open(sys.argv[1], "w").write(repr(time.time()))
            if len(sys.argv) > 2:  # bench/footprint.py: stay up idle until the stop file appears
                Clock.schedule_interval(lambda _dt: os.path.exists(sys.argv[2]) and self.stop(), 0.5)
            else:
                self.stop()
        Clock.schedule_once(drawn, 0)  # next frame: the window has been drawn once
Bare().run()
"""


def script_attract(app):
    """Runs inside the kiosk: note the time once the attract screen has been drawn."""
    yield lambda: app.sm.current == "attract"
    yield 0  # one more frame so the screen is on glass
    Path(os.environ["KIOSK_BENCH_STAMP"]).write_text(repr(time.time()))


def _run(cmd: list[str], env: dict, stamp: Path) -> float:
    stamp.unlink(missing_ok=True)
    t0 = time.time()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not stamp.exists():
        raise SystemExit(f"run failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return float(stamp.read_text()) - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    from kiosk.display import ensure_display

    display = ensure_display(1280, 800, announce=False)
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    stamp = tmp / "stamp"
    env = dict(os.environ, KIVY_HOME=str(tmp / "kivy"), KIOSK_BENCH_STAMP=str(stamp),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               KIVY_NO_CONSOLELOG="1")
    cfg = tmp / "kiosk.toml"
    cfg.write_text(f'[ui]\nfullscreen = false\n[storage]\ndir = "{tmp / "var"}"\n', encoding="utf-8")
    bare_py = tmp / "bare.py"
    bare_py.write_text(BARE)
    kiosk_t, bare_t = [], []
    try:
        for _ in range(args.runs):
            bare_t.append(_run([sys.executable, str(bare_py), str(stamp)], env, stamp))
            kiosk_t.append(_run([sys.executable, "-m", "kiosk.runner", "--script", "bench.cold_start:script_attract",
                                 "--config", str(cfg)], env, stamp))
    finally:
        if display:
            display.stop()
    kb, bb = statistics.median(kiosk_t), statistics.median(bare_t)
    print(f"cold start to first frame, median of {args.runs} (seconds)")
    print(f"  bare Kivy window : {bb:.3f}   runs: {' '.join(f'{t:.3f}' for t in bare_t)}")
    print(f"  kiosk attract    : {kb:.3f}   runs: {' '.join(f'{t:.3f}' for t in kiosk_t)}")
    print(f"  ratio kiosk/bare : {kb / bb:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
