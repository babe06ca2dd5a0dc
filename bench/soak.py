"""Soak: many simulated resident visits through the real kiosk, with faults injected at random.

    python bench/soak.py [--visits 100] [--seed 16] [--kill-every 40] [--json]   (the issue: --visits 1000)

The real app (``kiosk.runner``) on the demo config under Xvfb, every device
simulated on its real transport, the platform simulator in its own process
(so it outlives the kiosk). Each visit: login by one of the three paths in
turn (ID card F1, social-security card F7, e-SSC QR F9) -> item 26 (a query,
receipt printed) -> item 21 (certification photo, a submission, receipt) ->
logout (card removed where there is one).

Faults, drawn per visit from ``--seed``: the platform down for the visit or
answering slowly (1.5 s), the printer out of paper (a technician refills it
after the visit), the ID-card reader unplugged and plugged back before the
visit; and SIGKILL of the kiosk at a random moment about every
``--kill-every`` visits, after which it is started again (as systemd would).

At the end: every submission the resident was shown as accepted or stored
("acknowledged") is delivered exactly once (platform submissions by
idempotency key), the app is on the attract screen with no session, memory
growth per 1,000 visits after the first 50 (least-squares slope of RSS,
kiosk restarts excluded), touch-to-screen latency p50/p95 for the first and
last 50 visits (a tap on a category button -> its list drawn). Exit status 1
when a check fails. tests/test_soak.py runs a short version. ``touch
<log dir>/stop`` ends a long run after the current visit (the kiosk drains
its outbox and every check runs on the visits done; "only N of M visits"
is then reported as a failure).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

F1, F6, F7, F8, F9 = 282, 287, 288, 289, 290
PATHS = ("idcard", "sscard", "qr")
PHONE = "13912345678"
START_LIMIT = 120.0  # s from process start to the scenario's first event; longer counts as hung


# ------------------------------------------------------------ in the kiosk process

def _log(event: dict) -> None:
    with open(os.environ["SOAK_LOG"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(event, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _admin(url: str, body: dict) -> None:
    import httpx

    # The simulator was started by the soak's outer process: only it knows the admin token
    # (the kiosk process gets it through SOAK_ADMIN_TOKEN). A refused injection fails the
    # soak instead of running a "fault" visit without the fault.
    headers = {"Authorization": f"Bearer {os.environ['SOAK_ADMIN_TOKEN']}"}
    httpx.post(url.rstrip("/") + "/admin/fault-injection", json=body, timeout=5, headers=headers).raise_for_status()


def _done_visits() -> int:
    path = Path(os.environ["SOAK_LOG"])
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if '"ev": "visit"' in line)


class Interrupted(Exception):
    """The kiosk ended the visit before the scenario did."""


def _guarded(gen, gone):
    """Drive a visit's steps; after each step, a visit ended under it raises Interrupted
    (and a wait also ends when it does, instead of running into the runner's time limit)."""
    step = next(gen)
    while True:
        if callable(step):
            cond = step
            yield lambda: cond() or gone()
        else:
            yield step
        if gone():
            gen.close()
            raise Interrupted
        try:
            step = next(gen)
        except StopIteration as stop:
            return stop.value


def _visit(app, c, n):
    """One visit after login: a query (item 26) and a submission (item 21), receipts printed."""
    from kivy.core.window import Window

    from bench.touches import _close_print_popup, _open, _press, _settled, _step_kind
    from kiosk import ROOT as KROOT
    from tests.ui_helpers import find_button, tap

    # -- a query: item 26 (latency: the tap on the category -> its list on screen)
    yield 0.2
    button = find_button(Window, "我要办社保")
    t0 = time.monotonic()
    tap(button)
    yield lambda: app.sm.current == "items"
    yield 0  # the next frame: the list is on screen
    latency = time.monotonic() - t0
    yield from _press(c, "26.")
    yield lambda: app.sm.current == "guide"
    yield from _press(c, "开始办理")
    yield _settled(app)
    if _step_kind(app) in ("result", "done"):
        app.last_print = None
        yield from _press(c, "打印回执")
        yield lambda: app.last_print is not None and app.last_print.done
        yield from _close_print_popup(app, c)
    # -- a submission: item 21, certification photo
    app.go_home()
    app.devices.camera.show(KROOT / "images/sim/camera/photo/pass.jpg")
    yield from _open(app, c, "我要办社保", 21)
    yield lambda: app.sm.current == "photo"
    yield 0.4
    yield from _press(c, "拍照")
    yield lambda: app.sm.get_screen("photo").accepted == 1
    yield from _press(c, "使用这张")
    yield _settled(app)
    ack = None
    if _step_kind(app) == "form":
        step = app.sm.get_screen("flow").step
        for fs in step.fields:
            if fs.name == "phone" and not fs.value:
                yield from _press(c, "点此输入")
                for ch in PHONE:
                    yield from _press(c, ch)
                yield from _press(c, "确定")
        yield from _press(c, "下一步")
        yield _settled(app)
    if _step_kind(app) == "confirm":
        yield from _press(c, "确认提交")
        yield _settled(app)
        step = app.sm.get_screen("flow").step
        if step.kind in ("result", "done") and step.reference:
            out = app.backend.outbox.get(step.reference)
            ack = {"ref": step.reference, "queued": out is not None and out.acceptance is None}
            _log({"ev": "ack", "visit": n, **ack})
            app.last_print = None
            yield from _press(c, "打印回执")
            yield lambda: app.last_print is not None and app.last_print.done
            yield from _close_print_popup(app, c)

    return {"latency": latency, "ack": ack}


def scenario(app):
    """Visits until SOAK_VISITS are logged in SOAK_LOG (continues after a restart)."""
    import gc

    from kivy.core.window import Window

    from bench.touches import _counter

    total = int(os.environ["SOAK_VISITS"])
    seed = int(os.environ["SOAK_SEED"])
    url = app.cfg["platform"]["url"]

    def key(k: int) -> None:
        Window.dispatch("on_key_down", k, 0, None, [])

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0) and app.devices.camera is not None and app.backend.ready.is_set()
    yield 1.0
    _log({"ev": "start", "pid": os.getpid(), "at_visit": _done_visits()})
    c = _counter()
    stop = Path(os.environ["SOAK_LOG"]).with_name("stop")  # `touch DIR/stop`: end early, with the end checks
    while (n := _done_visits()) < total and not stop.exists():
        rng = random.Random(seed * 100_003 + n)
        paths = os.environ.get("SOAK_PATHS", ",".join(PATHS)).split(",")
        path = paths[n % len(paths)]
        fault = rng.choices(["none", "outage", "slow", "paper_out", "unplug"], [70, 8, 8, 7, 7])[0]
        if fault == "unplug":
            app.devices.sims.idcard_sim.unplug()
            yield 0.8
            app.devices.sims.idcard_sim.replug()
            yield 1.2  # the reader finds its port again
        if fault in ("outage", "slow"):
            _admin(url, {"outage": fault == "outage", "latency_ms": 1500 if fault == "slow" else 0})
        if fault == "paper_out":
            app.devices.sims.printer_sim.set_state("paper_out")
        # -- login
        if path == "qr" and fault == "outage":
            # The platform verifies an e-SSC code: in an outage the kiosk refuses it with a notice
            # (correct). The resident puts the phone away and uses the ID card; the visit goes on
            # offline, so its submission is stored and delivered later.
            attract = app.sm.get_screen("attract")
            attract.clear_notice()  # the last visit's farewell
            key(F9)
            yield lambda: bool(attract.message)
            app.devices.sim_hide_qr()
            _log({"ev": "qr_refused", "visit": n, "notice": attract.message})
            path = "idcard"
        if path == "idcard":
            key(F1)
        elif path == "sscard":
            key(F7)
        else:
            key(F9)
        yield lambda: app.sm.current == "menu" and app.sessions.current.person is not None
        who = app.sessions.current.person.source
        try:
            got = yield from _guarded(_visit(app, c, n), lambda: app.sessions.current.person is None)
        except Interrupted:
            # The kiosk ended the visit under us (a card reader's service restarted: the card
            # counts as removed). Correct behaviour; reset the devices and do the visit again.
            _log({"ev": "interrupted", "visit": n, "path": path, "fault": fault, "screen": app.sm.current})
            app.devices.camera.show(None)
            key(F8)
            key(F6)
            yield 1.5
            if app.sessions.current.person is not None:
                app.logout("soak: reset after an interrupted visit")
            yield lambda: app.sm.current == "attract" and app.sessions.current.person is None
            if fault in ("outage", "slow"):
                _admin(url, {"outage": False, "latency_ms": 0})
            if fault == "paper_out":
                app.devices.sims.printer_sim.set_state("ok")
            continue
        latency, ack = got["latency"], got["ack"]
        app.devices.camera.show(None)
        # -- logout, faults cleared (the technician refills the printer; the platform returns)
        if path == "sscard":
            key(F8)  # taking the card out ends the visit
        else:
            app.logout("resident pressed logout")
            if path == "idcard":
                key(F6)
                # The reader must see the card gone before the next visit lays one down (two
                # ID-card visits in a row happen when a QR visit fell back to the card).
                yield 1.5
        yield lambda: app.sm.current == "attract" and app.sessions.current.person is None
        if fault in ("outage", "slow"):
            _admin(url, {"outage": False, "latency_ms": 0})
        if fault == "paper_out":
            app.devices.sims.printer_sim.set_state("ok")
        yield 0.3
        if n % 10 == 0:
            gc.collect()
        _log({"ev": "visit", "visit": n, "path": path, "login": who, "fault": fault, "ack": ack is not None,
              "latency": latency, "rss_kib": _rss_kib(), "pid": os.getpid(), "t": time.time()})
    # All visits done: wait for the outbox to deliver what it stored, resolve stored references.
    app.backend.outbox.kick()
    yield lambda: app.backend.outbox.status().pending == 0
    resolved = {}
    for line in Path(os.environ["SOAK_LOG"]).read_text(encoding="utf-8").splitlines():
        ev = json.loads(line)
        if ev["ev"] == "ack":
            out = app.backend.outbox.get(ev["ref"])
            if out is not None and out.acceptance is not None:
                resolved[ev["ref"]] = out.acceptance.acceptance_no
    _log({"ev": "end", "screen": app.sm.current, "person": app.sessions.current.person is not None,
          "resolved": resolved, "pending": app.backend.outbox.status().pending})


# ------------------------------------------------------------ outside

def _slope(points: list[tuple[int, int]]) -> float:
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


def run(visits: int, seed: int, kill_every: float, tmp: Path, paths: tuple[str, ...] = PATHS) -> dict:
    import httpx

    from bench.memory import free_port
    from kiosk.display import start_xvfb
    from kiosk.platform.simulator.launcher import admin_headers, ensure_simulator

    tmp.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{free_port()}"
    sim = ensure_simulator(url, 42, state_path=str(tmp / "platform-sim.jsonl"))
    disp = start_xvfb(1280, 800, announce=False)
    cfg = tmp / "kiosk.toml"
    sscard = "" if "sscard" in paths else '[devices.sscard]\ndriver = "none"\n'
    # No fleet client: it is not part of a visit, and on a shared machine the MQTT broker on
    # 1883 may be someone else's (demo kiosks share one device id and knock each other off).
    sscard += '[fleet]\nenabled = false\n'
    cfg.write_text(f'[ui]\nfullscreen = false\n[platform]\nurl = "{url}"\n[storage]\ndir = "{tmp / "var"}"\n{sscard}',
                   encoding="utf-8")
    log = tmp / "soak.jsonl"
    env = dict(os.environ, DISPLAY=disp.display, KIVY_HOME=str(tmp / "kivy"), SDL_AUDIODRIVER="dummy",
               KIVY_NO_CONSOLELOG="1", SOAK_LOG=str(log), SOAK_PATHS=",".join(paths), SOAK_VISITS=str(visits), SOAK_SEED=str(seed),
               KIOSK_TEST_OUT=str(tmp),
               SOAK_ADMIN_TOKEN=admin_headers(url).get("Authorization", "").removeprefix("Bearer "),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    rng = random.Random(seed)
    kills = starts = hung = 0
    killed_at_visit = -1
    t_start = time.monotonic()

    def logged() -> list[dict]:
        return [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []

    try:
        while True:
            starts += 1
            with open(tmp / f"kiosk-{starts}.log", "w") as err:
                proc = subprocess.Popen([sys.executable, "-m", "kiosk.runner", "--script", "bench.soak:scenario",
                                         "--config", str(cfg)], env=env, cwd=ROOT, stdout=err, stderr=err)
                # SIGKILL at a random moment, about every kill_every visits (~6 s each on an idle
                # machine); the clock starts once the new process is up, and only after at least
                # one visit was completed since the last kill (so the soak always progresses).
                kill_at = None
                up_by = time.monotonic() + START_LIMIT
                while proc.poll() is None:
                    time.sleep(0.1)
                    if kill_at is None:
                        events = logged()
                        if any(e["ev"] == "start" and e["pid"] == proc.pid for e in events):
                            kill_at = time.monotonic() + (rng.expovariate(1 / (kill_every * 6.0))
                                                          if kill_every > 0 else float("inf"))
                        elif time.monotonic() > up_by:
                            # Never came up (seen once: the X server stopped answering the new
                            # client). systemd's watchdog would kill it; start again on a fresh display.
                            proc.send_signal(signal.SIGKILL)
                            proc.wait()
                            hung += 1
                            disp.stop()
                            disp = start_xvfb(1280, 800, announce=False)
                            env["DISPLAY"] = disp.display
                            break
                        continue
                    if time.monotonic() > kill_at:
                        done = sum(1 for e in logged() if e["ev"] == "visit")
                        if done > killed_at_visit and not any(e["ev"] == "end" for e in logged()):
                            proc.send_signal(signal.SIGKILL)
                            proc.wait()
                            kills += 1
                            killed_at_visit = done
                            break
                        kill_at = time.monotonic() + 1.0
            events = logged()
            if any(e["ev"] == "end" for e in events):
                break
            if proc.returncode not in (-signal.SIGKILL, 0):
                tail = (tmp / f"kiosk-{starts}.log").read_text(errors="replace")[-4000:]
                raise SystemExit(f"kiosk exited {proc.returncode} (start {starts}):\n{tail}")
            if starts > visits + 20:
                raise SystemExit("too many restarts")
        subs = httpx.get(url + "/admin/submissions", timeout=10, headers=admin_headers(url)).json()["submissions"]
    finally:
        disp.stop()
        if sim is not None:
            sim.stop()
    wall = time.monotonic() - t_start
    visits_ev = [e for e in events if e["ev"] == "visit"]
    acks = [e for e in events if e["ev"] == "ack"]
    end = [e for e in events if e["ev"] == "end"][-1]
    mine = [s for s in subs if s["item_no"] == 21]
    by_key: dict[str, int] = {}
    for s in mine:
        by_key[s["idempotency_key"]] = by_key.get(s["idempotency_key"], 0) + 1
    acc_nos = {s["acceptance_no"] for s in mine}
    # An acknowledged reference is either the platform's acceptance number or a stored
    # reference the outbox later resolved to one.
    delivered, lost, shown = 0, [], set()
    for a in acks:
        acc = a["ref"] if a["ref"] in acc_nos else end["resolved"].get(a["ref"])
        if acc in acc_nos:
            delivered += 1
            shown.add(acc)
        else:
            lost.append(a["ref"])
    duplicates = sum(n - 1 for n in by_key.values() if n > 1)
    # Memory growth: slope of RSS over visits >= 50 within each kiosk process, weighted by length.
    slopes = []
    for pid in dict.fromkeys(e["pid"] for e in visits_ev):
        pts = [(e["visit"], e["rss_kib"]) for e in visits_ev if e["pid"] == pid and e["visit"] >= 50]
        pts = pts[5:]  # a restarted process warms up over its first visits
        if len(pts) >= 10:
            slopes.append((len(pts), _slope(pts)))
    growth = (sum(n * s for n, s in slopes) / sum(n for n, _ in slopes)) if slopes else None
    lat = [e["latency"] * 1000 for e in visits_ev]
    head, tail_ = lat[:50], lat[-50:]
    faults: dict[str, int] = {}
    for e in visits_ev:
        faults[e["fault"]] = faults.get(e["fault"], 0) + 1
    return {
        "visits": len(visits_ev), "logins": {p: sum(1 for e in visits_ev if e["login"] == p) for p in PATHS},
        "faults": faults, "interrupted": sum(1 for e in events if e["ev"] == "interrupted"),
        "qr_refused_in_outage": sum(1 for e in events if e["ev"] == "qr_refused"), "kills": kills, "starts": starts, "hung_starts": hung, "acknowledged": len(acks), "delivered": delivered,
        "lost": lost, "duplicates": duplicates, "platform_submissions": len(mine),
        # The same resident applying again the same day is answered with the first application's
        # number (the kiosk does not send it twice): one platform submission, two acknowledgements.
        "acknowledged_again": delivered - len(shown),
        "shown_not_acknowledged": len(mine) - len(shown),
        "end_screen": end["screen"], "end_session": end["person"], "outbox_pending": end["pending"],
        "growth_kib_per_1000": None if growth is None else growth * 1000,
        "latency_ms": {"first_p50": _pct(head, .5), "first_p95": _pct(head, .95), "last_p50": _pct(tail_, .5),
                       "last_p95": _pct(tail_, .95)},
        "rss_mib": {"first": visits_ev[0]["rss_kib"] / 1024 if visits_ev else None,
                    "last": visits_ev[-1]["rss_kib"] / 1024 if visits_ev else None},
        "wall_s": wall,
    }


def checks(r: dict, want_visits: int) -> list[str]:
    bad = []
    if r["visits"] < want_visits:
        bad.append(f"only {r['visits']} of {want_visits} visits")
    if r["lost"]:
        bad.append(f"acknowledged but not delivered: {r['lost']}")
    if r["duplicates"]:
        bad.append(f"{r['duplicates']} duplicate deliveries")
    if r["end_screen"] != "attract" or r["end_session"]:
        bad.append(f"ended on {r['end_screen']} with a session: {r['end_session']}")
    if r["outbox_pending"]:
        bad.append(f"{r['outbox_pending']} submissions still in the outbox")
    if r["growth_kib_per_1000"] is not None and r["growth_kib_per_1000"] > 5 * 1024:
        bad.append(f"memory grows {r['growth_kib_per_1000'] / 1024:.1f} MiB per 1,000 visits (limit 5)")
    return bad


def report_checks(bad: list[str], logs: Path) -> int:
    """Print failed checks and where the logs are; the exit status."""
    for b in bad:
        print("FAIL:", b)
    print(f"logs in {logs}")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--visits", type=int, default=100)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--kill-every", type=float, default=40.0, help="mean visits between SIGKILLs (0: none)")
    ap.add_argument("--paths", default=",".join(PATHS),
                    help="login paths in turn; without sscard no vpcd slot (and no pcsc lock) is needed")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-soak-"))
    r = run(args.visits, args.seed, args.kill_every, tmp, tuple(args.paths.split(",")))
    if args.json:
        print(json.dumps(r, ensure_ascii=False))
    else:
        g = r["growth_kib_per_1000"]
        lat = r["latency_ms"]
        print(f"soak: {r['visits']} visits in {r['wall_s']:.0f} s (logins {r['logins']}); faults {r['faults']}; "
              f"SIGKILLs {r['kills']} ({r['starts']} starts, {r['hung_starts']} hung and restarted); visits ended under the scenario and redone "
              f"{r['interrupted']}; QR logins refused in an outage (then ID card) {r['qr_refused_in_outage']}")
        print(f"submissions: {r['acknowledged']} acknowledged, {r['delivered']} delivered, {len(r['lost'])} lost, "
              f"{r['duplicates']} duplicates; {r['platform_submissions']} at the platform "
              f"({r['shown_not_acknowledged']} delivered but killed before shown; {r['acknowledged_again']} "
              f"acknowledgements of a repeated application with the first one's number)")
        print(f"end: screen {r['end_screen']}, session {'open' if r['end_session'] else 'none'}, "
              f"outbox pending {r['outbox_pending']}")
        print(f"memory: RSS {r['rss_mib']['first']:.0f} -> {r['rss_mib']['last']:.0f} MiB; growth after visit 50: "
              + ("n/a (too few visits)" if g is None else f"{g / 1024:+.2f} MiB per 1,000 visits"))
        print(f"touch -> screen latency ms: first 50 p50 {lat['first_p50']:.0f} / p95 {lat['first_p95']:.0f}; "
              f"last 50 p50 {lat['last_p50']:.0f} / p95 {lat['last_p95']:.0f}")
    return report_checks(checks(r, args.visits), tmp)


if __name__ == "__main__":
    raise SystemExit(main())
