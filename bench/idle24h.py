"""A day of idling on the attract screen, compressed in time (issue 16).

    python bench/idle24h.py [--hours 24] [--speed 96] [--samples 12] [--sscard none] [--json]

The real app (``kiosk.runner``, demo config, every device simulated, camera
live on the attract screen, QR decoding on) and a bare Kivy window (one
Label) run side by side, each on its own Xvfb, for ``hours / speed`` real
hours (24 / 96 = 15 minutes by default). What is accelerated: the kiosk's
wall clock (``kiosk.core.clock.now``, which every date and time the kiosk
shows, prints or stores comes from) runs ``speed`` times faster, starting
at 22:00 local time, so the run crosses midnight: the attract screen's
clock label changes minute by minute through the whole day, the date rolls
over, and whatever is keyed to the date starts a new day. What cannot be
accelerated without changing what is measured: Kivy's frame clock and the
device threads' own timers (camera frames, QR decoding, reader polls,
watchdog pings) run in real time, so the run holds ``1 / speed`` of a day's
frames and polls; their per-firing leaks would show as a slope in the
samples, scaled down by ``speed``.

At ``--samples`` evenly spaced moments (simulated hours) it prints, for the
kiosk and the bare window in the same window of time: CPU (CPU time of all
threads over the interval / real time, % of one core), RSS (MiB), open file
descriptors and threads. At the end: fd and thread counts must not have
grown (beyond 2 fds, a socket reconnecting), the kiosk must be on the
attract screen showing the simulated date. Exit status 1 when a check fails.

CPU here is higher than bench/footprint.py's idle figure: the clock label is
re-rendered ``speed`` times as often as on a real day (once a minute of
simulated time), which redraws the window each time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.footprint import _wait_file, base_env, cpu_seconds, kiosk_config, loadavg, rss_mib, shut_down  # noqa: E402
from bench.soak import report_checks  # noqa: E402


# ------------------------------------------------------------ in the kiosk process

def fast_clock(speed: float, start: dt.datetime):
    """A replacement for ``kiosk.core.clock.now``: ``start`` + real time elapsed x ``speed``."""
    t0 = time.monotonic()

    def now() -> dt.datetime:
        return start + dt.timedelta(seconds=(time.monotonic() - t0) * speed)

    return now


def scenario(app):
    """Accelerate the kiosk's wall clock, then idle on the attract screen until told to stop."""
    from kiosk.core import clock

    speed = float(os.environ["IDLE24_SPEED"])
    tz = clock.timezone()
    start = (clock.now() - dt.timedelta(days=1)).replace(hour=22, minute=0, second=0, microsecond=0, tzinfo=tz)
    clock.now = fast_clock(speed, start)  # type: ignore[assignment]
    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0) and app.devices.camera is not None
    attract = app.sm.get_screen("attract")
    yield lambda: getattr(attract, "qr_preview", None) is not None and attract.qr_preview.running
    Path(os.environ["KIOSK_BENCH_READY"]).write_text(json.dumps({"start": start.isoformat()}))
    stop = Path(os.environ["KIOSK_BENCH_STOP"])
    while not stop.exists():
        yield 0.5
    Path(os.environ["KIOSK_BENCH_OUT"]).write_text(json.dumps({
        "screen": app.sm.current, "clock_text": attract.clock_text, "now": clock.now().isoformat(),
        "session": app.sessions.current.person is not None}, ensure_ascii=False))


# ------------------------------------------------------------ outside

def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def run(hours: float, speed: float, samples: int, tmp: Path) -> dict:
    from bench.cold_start import BARE
    from kiosk.display import start_xvfb

    env = base_env(tmp)
    cfg = kiosk_config(tmp)
    disp_k, disp_b = start_xvfb(1280, 800, announce=False), start_xvfb(1280, 800, announce=False)
    ready_k, ready_b, stop, out = tmp / "ready-k", tmp / "ready-b", tmp / "stop", tmp / "out.json"
    bare_py = tmp / "bare_idle.py"
    bare_py.write_text(BARE)
    procs: list[subprocess.Popen] = []
    try:
        kiosk = subprocess.Popen([sys.executable, "-m", "kiosk.runner", "--script", "bench.idle24h:scenario",
                                  "--config", str(cfg)],
                                 env=dict(env, DISPLAY=disp_k.display, KIOSK_BENCH_READY=str(ready_k),
                                          KIOSK_BENCH_STOP=str(stop), KIOSK_BENCH_OUT=str(out),
                                          IDLE24_SPEED=str(speed), KIOSK_TEST_OUT=str(tmp)),
                                 cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(tmp / "kiosk.log", "w"))
        procs.append(kiosk)
        bare = subprocess.Popen([sys.executable, str(bare_py), str(ready_b), str(stop)],
                                env=dict(env, DISPLAY=disp_b.display), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(bare)
        _wait_file(ready_k, procs, 180)
        _wait_file(ready_b, procs, 60)
        start = dt.datetime.fromisoformat(json.loads(ready_k.read_text())["start"])
        real = hours * 3600 / speed
        rows = []
        ck, cb, t0 = cpu_seconds(kiosk.pid), cpu_seconds(bare.pid), time.monotonic()
        begin = t0
        rows.append({"sim_h": 0.0, "kiosk_cpu": None, "bare_cpu": None, "kiosk_rss": rss_mib(kiosk.pid),
                     "bare_rss": rss_mib(bare.pid), "kiosk_fds": fds(kiosk.pid), "bare_fds": fds(bare.pid),
                     "kiosk_threads": threads(kiosk.pid), "load": loadavg()})
        for i in range(1, samples + 1):
            time.sleep(max(0.0, begin + real * i / samples - time.monotonic()))
            if kiosk.poll() is not None:
                raise SystemExit(f"kiosk exited ({kiosk.returncode}); see {tmp / 'kiosk.log'}")
            ck1, cb1, t1 = cpu_seconds(kiosk.pid), cpu_seconds(bare.pid), time.monotonic()
            rows.append({"sim_h": (t1 - begin) * speed / 3600,
                         "kiosk_cpu": (ck1 - ck) / (t1 - t0) * 100, "bare_cpu": (cb1 - cb) / (t1 - t0) * 100,
                         "kiosk_rss": rss_mib(kiosk.pid), "bare_rss": rss_mib(bare.pid),
                         "kiosk_fds": fds(kiosk.pid), "bare_fds": fds(bare.pid),
                         "kiosk_threads": threads(kiosk.pid), "load": loadavg()})
            ck, cb, t0 = ck1, cb1, t1
        stop.write_text("stop")
        _wait_file(out, [], 30)
        end = json.loads(out.read_text())
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        return {"start": start.isoformat(), "rows": rows, "end": end, "speed": speed, "hours": hours}
    finally:
        shut_down(procs, stop, [disp_k, disp_b])


def checks(r: dict) -> list[str]:
    bad = []
    first, last = r["rows"][0], r["rows"][-1]
    if last["kiosk_fds"] - first["kiosk_fds"] > 2:
        bad.append(f"open fds grew {first['kiosk_fds']} -> {last['kiosk_fds']}")
    if last["kiosk_threads"] > first["kiosk_threads"]:
        bad.append(f"threads grew {first['kiosk_threads']} -> {last['kiosk_threads']}")
    end = r["end"]
    if end["screen"] != "attract" or end["session"]:
        bad.append(f"ended on {end['screen']} with a session: {end['session']}")
    day = dt.datetime.fromisoformat(end["now"])
    if f"{day.month:02d}月{day.day:02d}日" not in end["clock_text"]:
        bad.append(f"attract clock shows {end['clock_text']!r}, simulated now is {end['now']}")
    return bad


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=24.0, help="simulated hours")
    ap.add_argument("--speed", type=float, default=96.0, help="simulated seconds per real second")
    ap.add_argument("--samples", type=int, default=12)
    ap.add_argument("--sscard", choices=("sim", "none"), default="none",
                    help="the virtual social-security card needs a vpcd slot of the system pcscd")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import bench.footprint as fp

    fp.SSCARD = args.sscard
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-idle24h-"))
    r = run(args.hours, args.speed, args.samples, tmp)
    if args.json:
        print(json.dumps(r, ensure_ascii=False))
    else:
        print(f"{args.hours:g} h idle compressed {args.speed:g}x into {args.hours * 60 / args.speed:.0f} min; "
              f"simulated start {r['start']}")
        print("| simulated h | CPU kiosk / bare (ratio) | RSS kiosk / bare MiB | fds kiosk / bare | kiosk threads | load |")
        print("| --- | --- | --- | --- | --- | --- |")
        for row in r["rows"]:
            cpu = ("—" if row["kiosk_cpu"] is None else
                   f"{row['kiosk_cpu']:.2f} / {row['bare_cpu']:.2f} % (x{row['kiosk_cpu'] / max(row['bare_cpu'], 0.01):.1f})")
            print(f"| {row['sim_h']:.1f} | {cpu} | {row['kiosk_rss']:.0f} / {row['bare_rss']:.0f} | "
                  f"{row['kiosk_fds']} / {row['bare_fds']} | {row['kiosk_threads']} | {row['load']} |")
        print(f"end: screen {r['end']['screen']}, clock {r['end']['clock_text']!r}, simulated now {r['end']['now']}")
    return report_checks(checks(r), tmp)


if __name__ == "__main__":
    raise SystemExit(main())
