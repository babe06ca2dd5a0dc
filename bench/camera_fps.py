"""UI frame rate with the camera preview and QR decoding running, against
the idle UI, in one Kivy window (Xvfb when DISPLAY is unset).

    /work/venv/bin/python bench/camera_fps.py [--seconds 10] [--camera-fps 10] [--decode-rate 10]

Phases of ``--seconds`` each, in one run: idle (camera closed), preview only,
preview + zxing decoding, preview + pyzbar decoding. The simulated camera
plays the 1280x720 sample frames (images/sim/camera/qr) at the configured
rate. Kivy's maxfps is 60, so 60 is the ceiling. Reported: Clock frames per
second counted over the phase, Clock.get_fps() averaged over 1 s samples,
ratio to idle, frames decoded, codes read.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--camera-fps", type=float, default=10.0, help="[devices.camera] fps")
    ap.add_argument("--decode-rate", type=float, default=10.0, help="decoder worker max frames/s")
    ap.add_argument("--preview-fps", type=float, default=15.0, help="CameraView refresh rate")
    args = ap.parse_args()

    from kiosk.display import ensure_display

    xvfb = ensure_display(1280, 800, announce=False)
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-bench-"))
    os.environ["KIVY_NO_ARGS"] = "1"
    try:
        _run(args)
    finally:
        if xvfb is not None:
            xvfb.stop()


def _run(args) -> None:
    import logging

    logging.getLogger("kiosk").setLevel(logging.WARNING)
    from kivy.config import Config

    Config.set("graphics", "width", "1280")
    Config.set("graphics", "height", "800")
    Config.set("graphics", "maxfps", "60")
    Config.set("kivy", "log_level", "warning")
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.uix.floatlayout import FloatLayout

    from kiosk.hardware.camera import SimCamera
    from kiosk.hardware.qr_decode import DecoderWorker
    from kiosk.screens.camera_view import CameraView

    phases = ["idle", "preview", "preview+zxing", "preview+pyzbar"]
    results: list[dict] = []

    class Bench(App):
        def build(self):
            self.cam = SimCamera(ROOT / "images" / "sim" / "camera" / "qr", fps=args.camera_fps, hold=1.0,
                                 size=(1280, 720))
            self.view = CameraView(camera=self.cam, fps=args.preview_fps)
            root = FloatLayout()
            root.add_widget(self.view)
            return root

        def on_start(self):
            self.worker = None
            self.phase = -1
            self.codes = 0
            self.frames = 0
            self.samples = []
            Clock.schedule_once(lambda dt: self.next_phase(), 1.0)  # let the window settle
            Clock.schedule_interval(self.count, 0)
            Clock.schedule_interval(self.sample, 1.0)

        def count(self, dt):
            self.frames += 1 if self.phase >= 0 else 0

        def sample(self, dt):
            if self.phase >= 0:
                self.samples.append(Clock.get_fps())

        def stop_phase(self):
            if self.worker is not None:
                self.worker.close()
            self.view.stop()
            self.cam.close()

        def next_phase(self):
            now = Clock.get_time()
            if self.phase >= 0:
                elapsed = now - self.t0
                w = self.worker
                results.append({"phase": phases[self.phase], "fps": self.frames / elapsed,
                                "get_fps": sum(self.samples[1:]) / max(1, len(self.samples[1:])),
                                "decoded": w.frames_decoded if w else 0, "codes": self.codes,
                                "decode_ms": (w.decode_seconds / w.frames_decoded * 1000) if w and w.frames_decoded else 0,
                                "shown": self.view.frames_shown - self.shown0})
                self.stop_phase()
            self.phase += 1
            if self.phase >= len(phases):
                self.stop()
                return
            name = phases[self.phase]
            self.worker = None
            if name != "idle":
                self.cam.start()
                self.view.start()
            if "+" in name:
                def on_code(_text):
                    self.codes += 1
                self.worker = DecoderWorker(name.split("+")[1], source=self.cam, max_rate=args.decode_rate,
                                            when_code=on_code)
                self.worker.dedup.forget_after = 0.5  # count re-reads across the 1 s image loop
                self.worker.start()
            self.frames = 0
            self.samples = []
            self.codes = 0
            self.shown0 = self.view.frames_shown
            self.t0 = Clock.get_time()
            Clock.schedule_once(lambda dt: self.next_phase(), args.seconds)

    load0 = os.getloadavg()[0]
    Bench().run()
    idle = results[0]["fps"]
    print(f"Kivy Clock FPS over {args.seconds:.0f} s per phase, 1280x800 window under "
          f"{'Xvfb' if os.environ.get('DISPLAY') else 'X'}; camera {args.camera_fps:.0f} fps 1280x720, "
          f"preview refresh {args.preview_fps:.0f}/s, decoder max {args.decode_rate:.0f} frames/s; "
          f"load average {load0:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'phase':16} {'fps':>6} {'get_fps':>8} {'vs idle':>8} {'previewed':>10} {'decoded':>8} {'ms/decode':>10} {'codes':>6}")
    for r in results:
        print(f"{r['phase']:16} {r['fps']:6.1f} {r['get_fps']:8.1f} {r['fps'] / idle:8.2f} {r['shown']:10d} "
              f"{r['decoded']:8d} {r['decode_ms']:10.1f} {r['codes']:6d}")


if __name__ == "__main__":
    main()
