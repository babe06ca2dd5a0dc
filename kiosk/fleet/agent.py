"""The kiosk's fleet agent: builds the client from ``[fleet]``, answers commands, reports health.

Runs entirely on its own loop thread (plus short worker threads for slow
commands such as the self-test); the app hands it events with
:meth:`FleetAgent.event`, which only queues work for that thread. What the
kiosk can *do* for a command (self-test, restart, print) comes from an
``actions`` object supplied by the app (duck-typed, so this layer imports
nothing above it); without one, those commands are refused as unavailable.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kiosk import ROOT, __version__
from kiosk.core import clock
from kiosk.core.config import Config
from kiosk.core.idnumber import scrub
from kiosk.fleet import bundle_kinds, bundles, release, signing, update
from kiosk.fleet.client import FleetClient, Hooks
from kiosk.fleet.eventqueue import FileQueue
from kiosk.fleet.guard import Guard, SeenIds
from kiosk.fleet.link import Backoff, SessionCounter, parse_url
from kiosk.fleet.loop import Loop
from kiosk.fleet.remote_config import RemoteConfig, config_hash

if TYPE_CHECKING:
    from kiosk.fleet.broker import Broker

log = logging.getLogger("kiosk.fleet.agent")

MAX_LOG_LINES = 500


class Actions(Protocol):
    def health(self) -> dict[str, Any]: ...
    def selftest(self) -> dict[str, Any]: ...
    def restart(self) -> None: ...
    def reprint_faults(self) -> dict[str, Any]: ...
    def log_lines(self, n: int) -> list[str]: ...
    def settings_changed(self, dotted: str) -> None: ...
    def restart_when_idle(self, why: str, before: Callable[[], None] | None = None) -> None: ...


class KeyFile:
    """Operator public keys, re-read when the file changes (no restart after `kiosk fleet keygen`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: float | None = None
        self._keys: dict = {}

    def __call__(self) -> dict:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            if self._mtime is not None or not self._keys:
                self._keys, self._mtime = {}, None
            return self._keys
        if mtime != self._mtime:
            try:
                self._keys = signing.parse_public_keys(self.path.read_text("utf-8"))
                log.info("fleet: %d operator key(s) from %s", len(self._keys), self.path)
            except (ValueError, OSError) as exc:
                log.error("fleet: operator keys %s unusable: %s; refusing commands", self.path, exc)
                self._keys = {}
            self._mtime = mtime
        return self._keys


def _resolve(p: str) -> Path:
    path = Path(p)
    return path if path.is_absolute() else ROOT / path


def system_health(storage_dir: Path, started: float) -> dict[str, Any]:
    disk = shutil.disk_usage(storage_dir)
    mem: dict[str, int] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    mem["rss_kb"] = int(line.split()[1])
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    mem["available_kb"] = int(line.split()[1])
    except OSError:
        pass
    return {
        "disk": {"free_mb": disk.free // 2**20, "total_mb": disk.total // 2**20},
        "memory": mem,
        "uptime_s": int(time.monotonic() - started),
    }


class FleetAgent:
    def __init__(self, cfg: Config, actions: Actions | None = None, *, loop: Loop | None = None) -> None:
        f = cfg.settings.fleet
        self.cfg = cfg
        self.actions = actions
        self.started = time.monotonic()
        self.dir = cfg.storage_dir / "fleet"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.remote_config = RemoteConfig(cfg, self.dir / "settings.json")
        self.link = parse_url(
            f.broker,
            ca_file=str(_resolve(f.ca_file)) if f.ca_file else "",
            cert_file=str(_resolve(f.cert_file)) if f.cert_file else "",
            key_file=str(_resolve(f.key_file)) if f.key_file else "",
            username=f.username,
            password=f.password,
            keepalive=f.keepalive,
        )
        self.keys = KeyFile(_resolve(f.operator_keys))
        site = cfg.settings.site
        self.guard = Guard(site.device_id, self.keys, SeenIds(self.dir / "seen-commands.json"))
        self.loop = loop or Loop("fleet")
        self._own_loop = loop is None
        self.client = FleetClient(
            self.loop,
            self.link,
            site.county,
            site.device_id,
            hooks=Hooks(
                state_extra=self._state_extra,
                health=self._health,
                on_command=self._on_command,
                on_desired=self._on_desired,
            ),
            queue=FileQueue(self.dir / "queue"),
            sessions=SessionCounter(self.dir / "session"),
            health_interval=f.health_interval,
            backoff=Backoff(cap=float(f.reconnect_max)),
        )
        self.broker: Broker | None = None
        self.bundle_versions: dict[str, str] = {}  # kind -> version in use, set at start (runner)
        self.visits_today = 0
        self.last_visit: float | None = None
        self._visit_day = clock.today().isoformat()
        self._desired_rev: Any = None
        self._updating = threading.Lock()  # one release download/stage at a time (shared staging paths)
        self._bundling = threading.Lock()  # bundles one after the other: they share active.json

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> FleetAgent:
        # The broker is started from the loop thread: setpriv's parent-death signal
        # fires when the *thread* that spawned it ends, and the loop thread lives
        # as long as the agent.
        self.loop.call_soon(self._start)
        if self._own_loop:
            self.loop.start()
        return self

    def _start(self) -> None:
        f = self.cfg.settings.fleet
        if f.start_broker:
            from kiosk.fleet.broker import ensure_broker

            try:
                self.broker = ensure_broker(f.broker, self.cfg.storage_dir / "mosquitto")
            except (OSError, RuntimeError, ValueError) as exc:
                log.error("fleet: local broker did not start: %s", exc)
        self.client.event("app_started", version=__version__)
        self.loop.clients.append(self.client)

    def close(self) -> None:
        self.loop.call_soon(self.client.close_now)
        if self._own_loop:
            self.loop.stop()
        if self.broker is not None:
            self.broker.stop()

    # -- from the app (any thread) -----------------------------------------------
    def event(self, kind: str, **fields: Any) -> None:
        self.loop.call_soon(lambda: self.client.event(kind, **fields))

    def visit(self) -> None:
        day = clock.today().isoformat()
        if day != self._visit_day:
            self._visit_day, self.visits_today = day, 0
        self.visits_today += 1
        self.last_visit = time.time()

    # -- hooks (loop thread) -------------------------------------------------------
    def _state_extra(self) -> dict[str, Any]:
        versions = {f"{kind}_version": self.bundle_versions.get(kind) for kind in bundle_kinds.KINDS}
        return {
            "version": __version__,
            **versions,
            "config_hash": config_hash(self.cfg),
            "since": int((self.client.stats.connected_since or time.time()) * 1000),
        }

    def _health(self) -> dict[str, Any]:
        self.client.health_interval = self.cfg.settings.fleet.health_interval  # may change remotely
        doc = system_health(self.cfg.storage_dir, self.started)
        doc["visits_today"] = self.visits_today if self._visit_day == clock.today().isoformat() else 0
        doc["last_visit"] = int(self.last_visit * 1000) if self.last_visit else None
        doc["version"] = __version__
        if self.actions is not None:
            try:
                doc.update(self.actions.health())
            except Exception as exc:
                log.warning("fleet: app health snapshot failed: %r", exc)
                doc["health_error"] = type(exc).__name__
        return doc

    def _on_command(self, client: FleetClient, cmd_id: str, doc: Any) -> None:
        reason = self.guard.check(cmd_id, doc)
        if reason:
            log.warning("fleet: command %s refused: %s", cmd_id, reason)
            client.ack(cmd_id, "refused", reason=reason)
            return
        action, args = doc["action"], doc.get("args") or {}
        log.info("fleet: command %s: %s", cmd_id, action)
        if action == "set_config":
            dotted, value = args.get("key"), args.get("value")
            if not isinstance(dotted, str):
                client.ack(cmd_id, "failed", reason="malformed")
                return
            why = self.remote_config.set(dotted, value)
            if why is None:
                self._settings_changed(dotted)
                client.ack(cmd_id, "ok", result={"key": dotted, "value": value, "config_hash": config_hash(self.cfg)})
                client.publish_state()
            else:
                client.ack(cmd_id, "failed", reason=why)
            return
        if action == "logs":
            n = args.get("n", 100)
            if not isinstance(n, int) or not 1 <= n <= MAX_LOG_LINES:
                client.ack(cmd_id, "failed", reason=f"n must be 1..{MAX_LOG_LINES}")
                return
        if self.actions is None and action not in ("update_catalog", "update_bundle", "update"):
            client.ack(cmd_id, "failed", reason="unavailable")
            return
        threading.Thread(
            target=self._run_action, args=(client, cmd_id, action, args), name=f"fleet-cmd-{action}", daemon=True
        ).start()

    def _run_action(self, client: FleetClient, cmd_id: str, action: str, args: dict[str, Any]) -> None:
        try:
            if action in ("update_catalog", "update_bundle"):
                self._update_bundle(client, cmd_id, args, "catalog" if action == "update_catalog" else None)
                return
            if action == "update":
                self._update_release(client, cmd_id, args)
                return
            assert self.actions is not None
            if action == "selftest":
                result = self.actions.selftest()
                status = "ok" if result.get("ok") else "failed"
                self.loop.call_soon(client.ack, cmd_id, status, result=result)
            elif action == "logs":
                lines = [scrub(x) for x in self.actions.log_lines(args.get("n", 100))]
                self.loop.call_soon(client.ack, cmd_id, "ok", result={"lines": lines})
            elif action == "reprint_faults":
                result = self.actions.reprint_faults()
                self.loop.call_soon(client.ack, cmd_id, "ok" if result.get("printed") else "failed", result=result)
            elif action == "restart":
                self.loop.call_soon(client.ack, cmd_id, "ok", result={"restarting": True})
                self.loop.call_soon(client.event, "restart", by="fleet", command=cmd_id)
                time.sleep(1.0)  # let the ack leave; if it does not, the durable queue sends it after the restart
                self.actions.restart()
        except Exception as exc:
            log.exception("fleet: command %s (%s) failed", cmd_id, action)
            self.loop.call_soon(client.ack, cmd_id, "failed", reason=f"{type(exc).__name__}: {exc}")

    @property
    def catalog_version(self) -> str | None:
        return self.bundle_versions.get("catalog")

    @catalog_version.setter
    def catalog_version(self, version: str) -> None:
        self.bundle_versions["catalog"] = version

    def _update_bundle(self, client: FleetClient, cmd_id: str, manifest: dict[str, Any], only: str | None) -> None:
        """Worker thread: download, verify, check-load and activate a data bundle; in use after the next visit."""
        kinds = bundle_kinds.kinds(self.cfg)
        name = manifest.get("name") if isinstance(manifest, dict) else None
        wanted = only or name
        kind = kinds.get(wanted) if isinstance(wanted, str) else None
        try:
            if kind is None:
                raise bundles.BundleError("unknown_bundle", f"{name!r}; kinds: {', '.join(kinds)}")
            with self._bundling:
                entry = bundles.fetch(
                    manifest,
                    self.cfg.settings.fleet.bundle_url,
                    self.keys(),
                    bundle_kinds.bundle_dir(self.cfg),
                    kind,
                    ca_file=self.link.ca_file,
                )
        except bundles.BundleError as exc:
            log.warning("fleet: %s bundle refused: %s", only or name, exc)
            reason, detail, what = exc.reason, str(exc), only or (name if isinstance(name, str) else "bundle")
            self.loop.call_soon(lambda: client.ack(cmd_id, "failed", reason=reason, detail=detail))
            self.loop.call_soon(lambda: client.event(f"{what}_update", ok=False, reason=reason))
            return
        version = entry["version"]
        self.loop.call_soon(
            lambda: client.ack(
                cmd_id, "ok", result={"kind": kind.name, "version": version, "in_use": "after the next visit"}
            )
        )
        self.loop.call_soon(lambda: client.event(f"{kind.name}_update", ok=True, version=version))
        if self.actions is not None:
            self.actions.restart_when_idle(f"{kind.name} bundle {version}")

    def _update_release(self, client: FleetClient, cmd_id: str, manifest: dict[str, Any]) -> None:
        """Worker thread: download + verify + stage now; switch ``current`` and restart between visits."""
        base_dir = self.cfg.settings.fleet.releases_dir
        if not base_dir:
            self.loop.call_soon(
                client.ack, cmd_id, "failed", reason="updates_not_configured", detail="[fleet] releases_dir is empty"
            )
            return
        if not self._updating.acquire(blocking=False):
            self.loop.call_soon(lambda: client.ack(cmd_id, "failed", reason="update_in_progress"))
            return
        try:
            self._stage_release(client, cmd_id, manifest, Path(base_dir))
        finally:
            self._updating.release()

    def _stage_release(self, client: FleetClient, cmd_id: str, manifest: dict[str, Any], base: Path) -> None:
        def progress(stage: str, **fields: Any) -> None:
            self.loop.call_soon(lambda: client.ack(cmd_id, "progress", stage=stage, **fields))

        try:
            version = release.fetch(manifest, self.keys(), base, ca_file=self.link.ca_file, progress=progress)
        except bundles.BundleError as exc:
            log.warning("fleet: software update refused: %s", exc)
            reason, detail = exc.reason, str(exc)  # ``exc`` is unbound after the block; the loop runs later
            self.loop.call_soon(lambda: client.ack(cmd_id, "failed", reason=reason, detail=detail))
            self.loop.call_soon(
                lambda: client.event(
                    "software_update", ok=False, stage="refused", reason=reason, version=manifest.get("version")
                )
            )
            return

        def switch() -> None:
            update.switch(base, version)
            log.info("fleet: switched to release %s (on probation until its health check)", version)
            self.event("software_update", ok=True, stage="switched", version=version)

        when = "now (no app running)" if self.actions is None else "between visits"
        self.loop.call_soon(lambda: client.ack(cmd_id, "ok", result={"version": version, "switch": when}))
        self.loop.call_soon(lambda: client.event("software_update", ok=True, stage="staged", version=version))
        if self.actions is None:
            switch()  # a headless agent has no visit to wait for and nothing to restart
        else:
            self.actions.restart_when_idle("software release " + version, before=switch)

    def _settings_changed(self, dotted: str) -> None:
        if self.actions is not None:
            try:
                self.actions.settings_changed(dotted)
            except Exception as exc:
                log.warning("fleet: app did not take setting %s: %r", dotted, exc)

    def _on_desired(self, client: FleetClient, doc: Any) -> None:
        """Retained ``config/desired``: ``{"rev": N, "settings": {key: value}, "key_id", "sig"}``."""
        if not isinstance(doc, dict) or not isinstance(doc.get("settings"), dict):
            client.report({"rev": None, "error": "malformed"})
            return
        reason = signing.verify(doc, self.keys())
        if reason is None and doc.get("device_id") not in (self.cfg.settings.site.device_id, None):
            reason = "wrong_device"
        if reason:
            log.warning("fleet: desired configuration refused: %s", reason)
            client.report({"rev": doc.get("rev"), "error": reason, "config_hash": config_hash(self.cfg)})
            return
        applied, refused = {}, {}
        for dotted, value in doc["settings"].items():
            current = self.remote_config.saved.get(dotted, object())
            why = None if current == value else self.remote_config.set(dotted, value)
            if why is None:
                applied[dotted] = value
                if current != value:
                    self._settings_changed(dotted)
            else:
                refused[dotted] = why
        self._desired_rev = doc.get("rev")
        client.report(
            {"rev": doc.get("rev"), "applied": applied, "refused": refused, "config_hash": config_hash(self.cfg)}
        )
        client.publish_state()
