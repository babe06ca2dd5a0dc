"""What the running app does for the fleet agent (kiosk.fleet.agent.Actions).

App layer: it may use Kivy's Clock (restart and setting changes happen on the
UI thread) and reach the technician mode's fault ledger. Every method except
``settings_changed``/``restart`` runs on a fleet worker thread, never the UI
thread. Nothing personal leaves: device states, counts and ages only; fault
lists carry the technician's masked name as the ledger stores it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kiosk import logbuffer

log = logging.getLogger("kiosk.app_fleet")

PRINT_WAIT = 40.0


def paper_state(devices: dict[str, Any]) -> str:
    printer = devices.get("printer")
    status = printer.status if printer is not None else "none"
    return {"online": "ok", "paper_near_end": "near_end", "paper_out": "out"}.get(status, "unknown")


class AppFleetActions:
    def __init__(self, app: Any) -> None:
        self.app = app

    def health(self) -> dict[str, Any]:
        states = self.app.devices.status()
        doc: dict[str, Any] = {
            "devices": {name: {"status": st.status, "driver": st.driver} for name, st in states.items()},
            "paper": paper_state(states),
        }
        backend = self.app.backend
        if backend is not None:
            st = backend.outbox.status()
            doc["outbox"] = {"pending": st.pending, "oldest_age_s": st.oldest_pending_age_s or 0,
                             "failed": st.failed, "platform_reachable": st.reachable}
        wd = getattr(self.app, "watchdog", None)
        if wd is not None:
            h = wd.health()
            doc["watchdog"] = {"ok": h.ok, "problem": h.problem}
        return doc

    def selftest(self) -> dict[str, Any]:
        from kiosk.selftest import all_ok, run_selftest

        backend = self.app.backend
        results = run_selftest(self.app.cfg, self.app.devices, platform=backend.platform if backend else None,
                               outbox=backend.outbox if backend else None)
        # Measured facts stay on the kiosk: they may hold what a test card carried.
        return {"ok": all_ok(results), "checks": [
            {"name": r.name, "ok": r.ok, "status": r.status, "detail_en": r.detail_en, "detail_zh": r.detail_zh,
             "seconds": round(r.seconds, 2)} for r in results]}

    def restart(self) -> None:
        from kivy.clock import Clock

        from kiosk.flows.tech_mode import RESTART_EXIT_CODE

        def stop(_dt: float) -> None:
            log.info("fleet restart: app exits with %d", RESTART_EXIT_CODE)
            self.app.sessions.logout("kiosk restart")
            self.app.exit_code = RESTART_EXIT_CODE  # systemd (Restart=always) starts the kiosk again
            self.app.stop()
        Clock.schedule_once(stop, 0)

    def restart_when_idle(self, why: str, before: Callable[[], None] | None = None) -> None:
        """Restart at the first moment nobody is at the kiosk (new catalog or release between visits).

        ``before`` (the release switch: one symlink rename) runs on the UI thread at
        that moment, when nobody is waiting on the screen; if it fails the kiosk
        keeps running the version it has and says so in the log.
        """
        from kivy.clock import Clock

        def check(_dt: float) -> bool:
            app = self.app
            if app.sm.current == "attract" and not app.sessions.current.holds_personal_data():
                if before is not None:
                    try:
                        before()
                    except Exception as exc:  # noqa: BLE001 - no switch, no restart
                        log.error("%s: not switched (%r); staying on the running version", why, exc)
                        return False
                log.info("no resident at the kiosk: restarting for %s", why)
                self.restart()
                return False  # unschedule
            return True
        Clock.schedule_interval(check, 1.0)

    def log_lines(self, n: int) -> list[str]:
        return logbuffer.recent(n)

    def _ledger(self) -> Any:
        tech = getattr(self.app, "plugins_tech", None)
        return tech.mode.ledger if tech is not None else None

    def reprint_faults(self) -> dict[str, Any]:
        from kiosk.hardware.escpos_commands import JobBuilder

        ledger = self._ledger()
        if ledger is None:
            return {"printed": False, "reason": "technician mode not installed"}
        records = ledger.records()
        settings = self.app.cfg.settings
        c, site = settings.devices.printer, settings.site
        job = JobBuilder(c.paper_width, c.text_mode, c.qr_mode)
        job.heading("故障报告清单")
        job.line(f"{site.name}  {site.device_id}")
        job.line(time.strftime("打印时间 %Y-%m-%d %H:%M"))
        job.rule()
        if not records:
            job.line("暂无故障报告。")
        for rec in records:
            job.line(f"{rec.created_at[:16].replace('T', ' ')}  {rec.category_zh}  {rec.state_zh}", bold=True)
            job.paragraph(rec.summary_zh)
            if rec.fault_no:
                job.line(f"编号 {rec.fault_no}  {rec.reply_due_zh}")
            for reply in rec.replies:
                job.paragraph(f"回复（{reply.by_zh}）：{reply.text_zh}")
            job.rule()
        job.feed(2).cut()
        done = threading.Event()
        box: dict[str, Any] = {}

        def on_done(result: Any) -> None:
            box["result"] = result
            done.set()
        self.app.devices.print_job(job.build(), f"fleet-faults-{int(time.time())}", on_done, label="fault list")
        if not done.wait(PRINT_WAIT):
            return {"printed": False, "reason": "printer did not finish", "faults": len(records)}
        result = box["result"]
        if isinstance(result, Exception):
            return {"printed": False, "reason": str(result), "faults": len(records)}
        return {"printed": True, "faults": len(records)}

    def settings_changed(self, dotted: str) -> None:
        from kivy.clock import Clock

        Clock.schedule_once(lambda _dt: self.app.apply_settings(dotted), 0)


def start_health_check(app: Any, interval: float = 2.0) -> threading.Thread | None:
    """After the attract screen is drawn: keep a version on probation once it is healthy.

    A supervised loop, not the UI loop: ``mark_good`` writes and fsyncs a file and
    pruning old releases deletes trees. It ends as soon as nothing is on probation
    (after pruning); any error is logged once and the check tried again.
    """
    from pathlib import Path

    from kiosk.core.supervised import start_loop
    from kiosk.fleet.probation import Probation, Signals, devices_up

    f = app.cfg.settings.fleet
    if not f.releases_dir:
        return None
    fleet = app.fleet
    report = fleet.event if fleet is not None else (lambda kind, **fields: None)
    drawn_at = time.monotonic()
    try:
        probation = Probation(Path(f.releases_dir), float(f.health_grace), report, keep=f.keep_releases)
        probation.report_boot()
    except OSError as exc:
        log.error("health check: release state under %s unreadable: %s", f.releases_dir, exc)
        return None

    def signals() -> Signals:
        backend = app.backend
        reachable = bool(backend is not None and (backend.platform_answered or backend.outbox.status().reachable))
        return Signals(attract_drawn=True, devices_up=devices_up(app.devices.status()),
                       platform_reachable=reachable, up_for=time.monotonic() - drawn_at)

    stop = threading.Event()
    told = [0.0]

    def step() -> float:
        sig = signals() if not probation.done else Signals(True, True, True, 0.0)
        if probation.check(sig):  # kept (or nothing on probation), old releases pruned
            stop.set()
            return 0.0
        if sig.up_for - told[0] >= 60:  # a technician reading the journal sees what is missing
            told[0] = sig.up_for
            log.info("version %s on probation: devices up %s, platform reachable %s, attract screen "
                     "up %d s of %d", probation.pending, sig.devices_up, sig.platform_reachable,
                     sig.up_for, probation.grace)
        return interval
    return start_loop("health-check", step, stop, logger=log)
