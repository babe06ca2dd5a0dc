"""Soak: many simulated resident visits through the real kiosk, with faults injected at random.

    python bench/soak.py [--visits 100] [--seed 16] [--kill-every 40] [--json]   (the issue: --visits 1000)

The real app (``kiosk.runner``) on the demo config under Xvfb, every device
simulated on its real transport, the platform simulator in its own process
(so it outlives the kiosk). Each visit: login by one of the three paths in
turn (ID card, social-security card, e-SSC QR on a phone), each visit by the next of the
platform world's ~450 pensioners (round robin) -> the payments enquiry of the resident's
pension scheme (item 26 or 36) (a query,
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

F6, F8 = 287, 289  # demo hotkeys: take the ID card away, take the social-security card out
PATHS = ("idcard", "sscard", "qr")
PHONE = "13912345678"
START_LIMIT = 120.0  # s from process start to the scenario's first event; longer counts as hung


# ------------------------------------------------------------ in the kiosk process

def _log(event: dict) -> None:
    with open(os.environ["SOAK_LOG"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(event, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


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


def _press(_counter, text: str):
    """Tap the button captioned ``text`` at a brisk pace.

    The touch walkthroughs' pace waits 0.5 s around every tap, which made a soak visit ~13 s
    (1,000 visits ~4 h); every step of a visit already waits for the screen it needs, so the
    soak only lets a frame pass after scrolling and after the tap (a visit ~7 s).
    """
    from tests.ui_helpers import press

    yield from press(text, pace=(0, 0, 0.05))


def _open(app, c, category: str, no: int):
    from bench.touches import _open as open_item

    yield from open_item(app, c, category, no, press=_press)


def _close_print_popup(app, c):
    from bench.touches import _close_print_popup as close_popup

    yield from close_popup(app, c, press=_press)


def _visit(app, c, n, query: int):
    """One visit after login: a query (``query``) and a submission (item 21), receipts printed."""
    from kivy.core.window import Window

    from bench.touches import _settled, _step_kind
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
    yield from _press(c, f"{query}.")
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


def _residents(app) -> list:
    """Every resident of the platform simulator's world who draws a monthly pension and holds a
    usable card, in a fixed order: visit n brings the n-th (round robin), so a 1,000-visit run
    sends ~450 different certifications (item 21) to the platform instead of two residents'
    first ones (a resident's second application on the same day is answered with the first
    one's number and not sent again). The world is the one the simulator generates from the
    kiosk's own seed (the kiosk's demo residents F1..F5 come from it too)."""
    from kiosk.core import clock
    from kiosk.platform.simulator.data import generate

    today = clock.today()
    world = generate(app.cfg.settings.platform.simulator_seed, today)
    pool = [r for r in world.residents.values()
            if (r.emp_receiving or r.res_receiving) and r.effective_card_state(today) == "normal"]
    return sorted(pool, key=lambda r: r.id_number)


def _present(app, path: str, rec) -> None:
    """The resident ``rec`` logs in by ``path``: lays the ID card on the reader, inserts the
    social-security card, or shows the e-SSC code on the phone to the camera."""
    from kiosk.core import clock
    from kiosk.hardware.qr_render import phone_scene
    from kiosk.hardware.sscard_sim import holder_from_person
    from kiosk.sim_people import _card_for, demo_essc_code

    card = _card_for(rec, clock.today())
    sims = app.devices.sims
    if path == "idcard":
        sims.idcard_sim.insert(card)
    elif path == "sscard":
        sims.sscard_sim.holder = holder_from_person(card.to_person())
        sims.sscard_sim.insert(wait=False)
    else:
        app.devices.camera.show(phone_scene(demo_essc_code(app.cfg, rec.id_number)))


def scenario(app):
    """Visits until SOAK_VISITS are logged in SOAK_LOG (continues after a restart)."""

    from kivy.core.window import Window

    from bench.touches import _counter

    total = int(os.environ["SOAK_VISITS"])
    kiosk, kiosks = int(os.environ.get("SOAK_KIOSK", "0")), int(os.environ.get("SOAK_KIOSKS", "1"))
    from kiosk.core.heap import rss_kib
    seed = int(os.environ["SOAK_SEED"])
    url = app.cfg["platform"]["url"]

    def key(k: int) -> None:
        Window.dispatch("on_key_down", k, 0, None, [])

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0) and app.devices.camera is not None and app.backend.ready.is_set()
    yield 1.0
    # A SIGKILL in the middle of a fault visit leaves the fault behind (the process that would
    # have cleared it is gone): the visits after a restart start from a clean platform and printer.
    _admin(url, {"outage": False, "latency_ms": 0})
    app.devices.sims.printer_sim.set_state("ok")
    pool = _residents(app)
    _log({"ev": "start", "pid": os.getpid(), "at_visit": _done_visits(), "residents": len(pool)})
    c = _counter()
    stop = Path(os.environ["SOAK_LOG"]).with_name("stop")  # `touch DIR/stop`: end early, with the end checks
    while (n := _done_visits()) < total and not stop.exists():
        g = n * kiosks + kiosk  # the visit's number over all kiosks of the soak
        rng = random.Random(seed * 100_003 + g)
        paths = os.environ.get("SOAK_PATHS", ",".join(PATHS)).split(",")
        path = paths[n % len(paths)]
        resident = pool[g % len(pool)]
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
            _present(app, "qr", resident)
            yield lambda: bool(attract.message)
            app.devices.sim_hide_qr()
            _log({"ev": "qr_refused", "visit": n, "notice": attract.message})
            path = "idcard"
        _present(app, path, resident)
        yield lambda: app.sm.current == "menu" and app.sessions.current.person is not None
        who = app.sessions.current.person.source
        if app.sessions.current.person.id_number != resident.id_number:
            raise SystemExit(f"visit {n}: logged in as someone else than the resident presented")
        try:
            # The pension payments enquiry of the resident's own scheme: enterprise (26) or
            # urban-rural resident (36).
            query = 26 if resident.emp_receiving else 36
            got = yield from _guarded(_visit(app, c, n, query), lambda: app.sessions.current.person is None)
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
        tidies = getattr(app, "heap_tidies", None)  # the kiosk tidies its heap once the visit is over
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
        # Every 5th visit, memory is sampled once the kiosk has tidied after the visit (collected
        # and given freed heap back, ~2 s after it ended: kiosk.core.heap): right after a visit,
        # RSS still holds the visit's garbage and varies by ±10 MiB from visit to visit.
        rss_tidy = None
        if n % 5 == 0 and tidies is not None:
            until = time.monotonic() + 8.0
            yield lambda: app.heap_tidies > tidies or time.monotonic() > until
            rss_tidy = rss_kib() if app.heap_tidies > tidies else None
        _log({"ev": "visit", "visit": n, "path": path, "login": who, "fault": fault, "ack": ack is not None,
              "latency": latency, "rss_kib": rss_kib(), "rss_tidy_kib": rss_tidy, "pid": os.getpid(),
              "t": time.time()})
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


def _pooled_slope(segments: list[list[tuple[int, int]]]) -> tuple[float | None, float | None]:
    """Least-squares slope shared by all segments (each its own intercept) and its standard error."""
    sxx = sxy = 0.0
    centred = []
    for pts in segments:
        mx = sum(x for x, _ in pts) / len(pts)
        my = sum(y for _, y in pts) / len(pts)
        centred.append([(x - mx, y - my) for x, y in pts])
        sxx += sum(dx * dx for dx, _ in centred[-1])
        sxy += sum(dx * dy for dx, dy in centred[-1])
    if not sxx:
        return None, None
    b = sxy / sxx
    n = sum(len(c) for c in centred)
    dof = n - len(centred) - 1
    if dof <= 0:
        return b, None
    rss = sum((dy - b * dx) ** 2 for c in centred for dx, dy in c)
    return b, (rss / dof / sxx) ** 0.5


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


def _drive_kiosk(k: int, kiosks: int, visits: int, seed: int, kill_every: float, tmp: Path,
                 paths: tuple[str, ...], url: str, out: dict) -> None:
    """One kiosk of the soak: start it, SIGKILL it now and then, start it again, until its
    scenario logged the end. Its counts go to ``out``."""
    from kiosk.display import start_xvfb
    from kiosk.platform.simulator.launcher import admin_headers

    tmp.mkdir(parents=True, exist_ok=True)
    disp = start_xvfb(1280, 800, announce=False)
    cfg = tmp / "kiosk.toml"
    sscard = "" if "sscard" in paths else '[devices.sscard]\ndriver = "none"\n'
    # No fleet client: it is not part of a visit, and on a shared machine the MQTT broker on
    # 1883 may be someone else's (demo kiosks share one device id and knock each other off).
    sscard += '[fleet]\nenabled = false\n'
    # start_simulator = false: the simulator is the soak's (it outlives every kiosk process); a
    # kiosk restarted during an outage must not try to start its own on the same port.
    cfg.write_text(f'[ui]\nfullscreen = false\n[platform]\nurl = "{url}"\nstart_simulator = false\n[storage]\ndir = "{tmp / "var"}"\n{sscard}',
                   encoding="utf-8")
    log = tmp / "soak.jsonl"
    env = dict(os.environ, DISPLAY=disp.display, KIVY_HOME=str(tmp / "kivy"), SDL_AUDIODRIVER="dummy",
               KIVY_NO_CONSOLELOG="1", SOAK_LOG=str(log), SOAK_PATHS=",".join(paths), SOAK_VISITS=str(visits),
               SOAK_SEED=str(seed), SOAK_KIOSK=str(k), SOAK_KIOSKS=str(kiosks), KIOSK_TEST_OUT=str(tmp),
               SOAK_ADMIN_TOKEN=admin_headers(url).get("Authorization", "").removeprefix("Bearer "),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    rng = random.Random(seed * 31 + k)
    kills = starts = hung = 0
    killed_at_visit = -1

    def logged() -> list[dict]:
        return [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []

    try:
        while True:
            starts += 1
            with open(tmp / f"kiosk-{starts}.log", "w") as err:
                proc = subprocess.Popen([sys.executable, "-m", "kiosk.runner", "--script", "bench.soak:scenario",
                                         "--config", str(cfg)], env=env, cwd=ROOT, stdout=err, stderr=err)
                # SIGKILL at a random moment, about every kill_every visits (~7 s each on an idle
                # machine); the clock starts once the new process is up, and only after at least
                # one visit was completed since the last kill (so the soak always progresses).
                kill_at = None
                up_by = time.monotonic() + START_LIMIT
                while proc.poll() is None:
                    time.sleep(0.1)
                    if kill_at is None:
                        events = logged()
                        if any(e["ev"] == "start" and e["pid"] == proc.pid for e in events):
                            kill_at = time.monotonic() + (rng.expovariate(1 / (kill_every * 7.0))
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
                raise SystemExit(f"kiosk {k} exited {proc.returncode} (start {starts}):\n{tail}")
            if starts > visits + 20:
                raise SystemExit(f"kiosk {k}: too many restarts")
    except BaseException as exc:  # noqa: BLE001 - reported by run() after the other kiosks end
        out["error"] = exc
    finally:
        disp.stop()
    out.update(kills=kills, starts=starts, hung=hung, events=logged())


def run(visits: int, seed: int, kill_every: float, tmp: Path, paths: tuple[str, ...] = PATHS,
        kiosks: int = 1) -> dict:
    """``visits`` visits shared by ``kiosks`` kiosks (each its own process, display, storage and
    platform simulator); the counts over all of them."""
    import threading

    import httpx

    from bench.memory import free_port
    from kiosk.platform.simulator.launcher import admin_headers, ensure_simulator

    tmp.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()
    outs: list[dict] = [{} for _ in range(kiosks)]
    sims = []
    try:
        threads = []
        for k in range(kiosks):
            # Each kiosk its own platform (as kiosks of different counties): a fault one kiosk's
            # visit injects (outage, slow answers) must not fall on another kiosk's visit.
            ktmp = tmp / f"kiosk{k}" if kiosks > 1 else tmp
            ktmp.mkdir(parents=True, exist_ok=True)
            url = f"http://127.0.0.1:{free_port()}"
            sims.append(ensure_simulator(url, 42, state_path=str(ktmp / "platform-sim.jsonl")))
            outs[k]["url"] = url
            # Only one kiosk takes the social-security card: a kiosk watches every vpcd slot, so
            # a second kiosk would see the first one's card (and the machine has two slots).
            kpaths = paths if k == 0 else tuple(p for p in paths if p != "sscard") or ("idcard",)
            share = visits // kiosks + (1 if k < visits % kiosks else 0)
            t = threading.Thread(target=_drive_kiosk, name=f"kiosk-{k}", daemon=True,
                                 args=(k, kiosks, share, seed, kill_every, ktmp, kpaths, url, outs[k]))
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
        for o in outs:
            if "error" in o:
                raise o["error"]
            o["subs"] = httpx.get(o["url"] + "/admin/submissions", timeout=10,
                                  headers=admin_headers(o["url"])).json()["submissions"]
    finally:
        for sim in sims:
            if sim is not None:
                sim.stop()
    wall = time.monotonic() - t_start
    events = [e for o in outs for e in o["events"]]
    kills = sum(o["kills"] for o in outs)
    starts = sum(o["starts"] for o in outs)
    hung = sum(o["hung"] for o in outs)
    visits_ev = sorted((e for e in events if e["ev"] == "visit"), key=lambda e: e["t"])
    acks = [e for e in events if e["ev"] == "ack"]
    ends = [e for e in events if e["ev"] == "end"]
    # Exactly once, per kiosk and its platform: an acknowledged reference is either the
    # platform's acceptance number or a stored reference the outbox later resolved to one.
    delivered, lost, shown_n, platform_n, by_key = 0, [], 0, 0, {}
    for k, o in enumerate(outs):
        mine = [s for s in o["subs"] if s["item_no"] == 21]
        platform_n += len(mine)
        for s in mine:
            by_key[(k, s["idempotency_key"])] = by_key.get((k, s["idempotency_key"]), 0) + 1
        acc_nos = {s["acceptance_no"] for s in mine}
        resolved = {ref: acc for e in o["events"] if e["ev"] == "end" for ref, acc in e["resolved"].items()}
        shown = set()
        for a in (e for e in o["events"] if e["ev"] == "ack"):
            acc = a["ref"] if a["ref"] in acc_nos else resolved.get(a["ref"])
            if acc in acc_nos:
                delivered += 1
                shown.add(acc)
            else:
                lost.append(a["ref"])
        shown_n += len(shown)
    duplicates = sum(n - 1 for n in by_key.values() if n > 1)
    # Memory growth: RSS against visits >= 50 within each kiosk process (a restart starts low
    # again), one slope fitted over all processes with an intercept each.
    # RSS after the kiosk's tidy (every 5th visit) where there is one, else right after the visit.
    tidy = any(e.get("rss_tidy_kib") for e in visits_ev)
    segments = []
    for pid in dict.fromkeys(e["pid"] for e in visits_ev):
        mine = [e for e in visits_ev if e["pid"] == pid]
        # a (re)started process builds its screens over its first visits (flat from ~10)
        first = mine[0]["visit"] + 10
        pts = [(e["visit"], e["rss_tidy_kib"] if tidy else e["rss_kib"]) for e in mine
               if e["visit"] >= max(50, first) and (e.get("rss_tidy_kib") or not tidy)]
        if len(pts) >= (4 if tidy else 20) and pts[-1][0] - pts[0][0] >= 20:
            segments.append(pts)
    growth, growth_se = _pooled_slope(segments)
    lat = [e["latency"] * 1000 for e in visits_ev]
    head, tail_ = lat[:50], lat[-50:]
    faults: dict[str, int] = {}
    for e in visits_ev:
        faults[e["fault"]] = faults.get(e["fault"], 0) + 1
    return {
        "visits": len(visits_ev), "logins": {p: sum(1 for e in visits_ev if e["login"] == p) for p in PATHS},
        "faults": faults, "interrupted": sum(1 for e in events if e["ev"] == "interrupted"),
        "qr_refused_in_outage": sum(1 for e in events if e["ev"] == "qr_refused"), "kills": kills, "starts": starts, "hung_starts": hung, "acknowledged": len(acks), "delivered": delivered,
        "lost": lost, "duplicates": duplicates, "platform_submissions": platform_n,
        # The same resident applying again the same day is answered with the first application's
        # number (the kiosk does not send it twice): one platform submission, two acknowledgements.
        "acknowledged_again": delivered - shown_n,
        "shown_not_acknowledged": platform_n - shown_n,
        "kiosks": len(outs), "end_screen": ",".join(e["screen"] for e in ends),
        "end_session": any(e["person"] for e in ends), "outbox_pending": sum(e["pending"] for e in ends),
        "growth_kib_per_1000": None if growth is None else growth * 1000,
        "growth_se_kib_per_1000": None if growth_se is None else growth_se * 1000,
        "growth_visits": sum(len(p) for p in segments), "growth_processes": len(segments),
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
    if set(r["end_screen"].split(",")) != {"attract"} or r["end_session"]:
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
    ap.add_argument("--kiosks", type=int, default=1,
                    help="kiosks sharing the visits against one platform (each its own process and display)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-soak-"))
    r = run(args.visits, args.seed, args.kill_every, tmp, tuple(args.paths.split(",")), args.kiosks)
    if args.json:
        print(json.dumps(r, ensure_ascii=False))
    else:
        g = r["growth_kib_per_1000"]
        lat = r["latency_ms"]
        print(f"soak: {r['visits']} visits on {r['kiosks']} kiosk(s) in {r['wall_s']:.0f} s (logins {r['logins']}); faults {r['faults']}; "
              f"SIGKILLs {r['kills']} ({r['starts']} starts, {r['hung_starts']} hung and restarted); visits ended under the scenario and redone "
              f"{r['interrupted']}; QR logins refused in an outage (then ID card) {r['qr_refused_in_outage']}")
        print(f"submissions: {r['acknowledged']} acknowledged, {r['delivered']} delivered, {len(r['lost'])} lost, "
              f"{r['duplicates']} duplicates; {r['platform_submissions']} at the platform "
              f"({r['shown_not_acknowledged']} delivered but killed before shown; {r['acknowledged_again']} "
              f"acknowledgements of a repeated application with the first one's number)")
        print(f"end: screen {r['end_screen']}, session {'open' if r['end_session'] else 'none'}, "
              f"outbox pending {r['outbox_pending']}")
        se = r["growth_se_kib_per_1000"]
        print(f"memory: RSS {r['rss_mib']['first']:.0f} -> {r['rss_mib']['last']:.0f} MiB; growth after visit 50: "
              + ("n/a (too few visits)" if g is None else
                 f"{g / 1024:+.2f} MiB per 1,000 visits (standard error {0 if se is None else se / 1024:.2f}; "
                 f"{r['growth_visits']} samples in {r['growth_processes']} kiosk processes)"))
        print(f"touch -> screen latency ms: first 50 p50 {lat['first_p50']:.0f} / p95 {lat['first_p95']:.0f}; "
              f"last 50 p50 {lat['last_p50']:.0f} / p95 {lat['last_p95']:.0f}")
    return report_checks(checks(r, args.visits), tmp)


if __name__ == "__main__":
    raise SystemExit(main())
