"""Cold start: process start -> first frame, kiosk (attract screen) vs a bare Kivy window.

Runs each 5 times under one virtual display, alternating, and prints medians
and the ratios. Usage: python bench/cold_start.py [--runs N]

Both processes take their stamp at the same point: when their first frame is
flipped (the window's first ``on_flip``: drawn, handed to the buffer swap),
the kiosk's with the attract screen current. Each stamp holds the wall time
and the process's CPU time (user + sys of all its threads) at that moment:
on a loaded machine the CPU time is the steadier of the two, as it does not
count the time the process waited for a core.
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
from kivy.core.window import Window
from kivy.uix.label import Label

class Bare(App):
    def build(self):
        return Label(text="hello")
    def on_start(self):
        def flipped(*_a):  # the first frame is drawn and handed to the buffer swap
            Window.unbind(on_flip=flipped)
            open(sys.argv[1], "w").write(f"{time.time()!r} {time.process_time()!r}")
            if len(sys.argv) > 2:  # bench/footprint.py: stay up idle until the stop file appears
                Clock.schedule_interval(lambda _dt: os.path.exists(sys.argv[2]) and self.stop(), 0.5)
            else:
                Clock.schedule_once(lambda _dt: self.stop(), 0)
        Window.bind(on_flip=flipped)
Bare().run()
"""


def script_attract(app):
    """Runs inside the kiosk: stamp the first frame flipped with the attract screen current.

    Not a generator itself: kiosk.runner calls it before the app runs, so the
    stamp is hooked to the window before its first frame (the script's own
    steps start later, on the running clock).
    """
    from kivy.core.window import Window

    stamp = Path(os.environ["KIOSK_BENCH_STAMP"])

    def flipped(*_a) -> None:
        sm = getattr(app, "sm", None)
        if sm is not None and sm.current == "attract":
            Window.unbind(on_flip=flipped)
            stamp.write_text(f"{time.time()!r} {time.process_time()!r}")

    Window.bind(on_flip=flipped)

    def until_stamped():
        yield lambda: stamp.exists()

    return until_stamped()


def _run(cmd: list[str], env: dict, stamp: Path) -> tuple[float, float]:
    """(wall seconds from process start to the first frame, CPU seconds of the process by then)."""
    stamp.unlink(missing_ok=True)
    t0 = time.time()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not stamp.exists():
        raise SystemExit(f"run failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    wall, cpu = stamp.read_text().split()
    return float(wall) - t0, float(cpu)


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
    kiosk_r, bare_r = [], []
    try:
        for _ in range(args.runs):
            bare_r.append(_run([sys.executable, str(bare_py), str(stamp)], env, stamp))
            kiosk_r.append(_run([sys.executable, "-m", "kiosk.runner", "--script", "bench.cold_start:script_attract",
                                 "--config", str(cfg)], env, stamp))
    finally:
        if display:
            display.stop()
    print(f"cold start to first frame, median of {args.runs} (seconds)")
    for i, what in enumerate(("wall", "CPU")):
        kiosk_t, bare_t = [r[i] for r in kiosk_r], [r[i] for r in bare_r]
        kb, bb = statistics.median(kiosk_t), statistics.median(bare_t)
        print(f"  {what}: bare Kivy window {bb:.3f}   runs: {' '.join(f'{t:.3f}' for t in bare_t)}")
        print(f"  {what}: kiosk attract    {kb:.3f}   runs: {' '.join(f'{t:.3f}' for t in kiosk_t)}")
        print(f"  {what}: ratio kiosk/bare {kb / bb:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
