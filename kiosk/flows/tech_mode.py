"""Technician mode without Kivy: staff login, the session, safe settings, restart, faults.

``TechMode(cfg, platform=..., selftest=...)`` is what the technician screens
call; it is handed the platform client (the app's, or a provider of it) and
the self-test to run (over the app's devices), and builds neither itself. Logins
go through ``kiosk.flows.staff_auth`` (account rules from seed 004, a
persistent failed-login throttle) and every attempt, granted or refused, is
written to the audit log (``kiosk.audit``). ``end_session()`` wipes the staff
session; the screens call it whenever technician mode is left.

Files in the storage dir: ``staff_offline.json`` (per-person salted PIN
hashes for offline login), ``login_throttle.json`` (throttle state, so a
power cycle does not reset the limit), ``audit.jsonl``, ``faults.json``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import logging
import re
import threading
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Union

from kiosk.audit import AuditLog
from kiosk.core import clock
from kiosk.core import config as config_mod
from kiosk.core.errors import ConfigError, KioskError, PlatformError
from kiosk.core.settings import Settings
from kiosk.core.settings import check as check_settings
from kiosk.core.storage import StorageError, write_text_atomic
from kiosk.flows import staff_auth as sa

if TYPE_CHECKING:
    from kiosk.flows.fault_report import FaultLedger, FaultRecord
    from kiosk.platform.adapter import Platform
    from kiosk.platform.adapter import StaffAccount as PlatformStaffAccount

log = logging.getLogger("kiosk.tech")

OFFLINE_FILE = "staff_offline.json"
THROTTLE_FILE = "login_throttle.json"
AUDIT_FILE = "audit.jsonl"

#: Exit code of a technician-requested restart (systemd's Restart=always starts the kiosk again).
RESTART_EXIT_CODE = 75


# ---------------------------------------------------------------------------
# Safe settings


@dataclass(frozen=True)
class SafeSetting:
    key: str
    section: str
    name: str
    label_zh: str
    unit_zh: str
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    step: float = 1
    live: bool = True  # applied at once; False: after a restart
    read: Callable[[Settings], Any] | None = None  # the current value, from the typed settings (required)

    def current(self, settings: Settings) -> Any:
        if self.read is None:
            raise TypeError(f"safe setting {self.key} says nowhere how to read its current value")
        return self.read(settings)

    def validate(self, value: Any) -> Any:
        """The value to store, or ConfigError with a Chinese message."""
        if self.choices is not None:
            if value not in self.choices:
                raise ConfigError(
                    f"[{self.section}] {self.name} must be one of {self.choices}, got {value!r}",
                    f"{self.label_zh}只能选 {' 或 '.join(map(str, self.choices))}{self.unit_zh}。",
                )
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(
                f"[{self.section}] {self.name} must be a number, got {value!r}", f"{self.label_zh}必须是数字。"
            )
        if not (self.low <= value <= self.high):  # type: ignore[operator]
            raise ConfigError(
                f"[{self.section}] {self.name} must be between {self.low} and {self.high}, got {value!r}",
                f"{self.label_zh}应在 {_fmt(self.low)} 到 {_fmt(self.high)}{self.unit_zh} 之间。",
            )
        return int(value) if isinstance(self.step, int) and float(value).is_integer() else round(float(value), 2)


def _fmt(v: Any) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


SAFE_SETTINGS: dict[str, SafeSetting] = {
    "idle_timeout": SafeSetting(
        "idle_timeout",
        "ui",
        "idle_timeout",
        "无操作自动退出时间",
        "秒",
        low=20,
        high=600,
        step=10,
        read=lambda s: s.ui.idle_timeout,
    ),
    "volume": SafeSetting(
        "volume", "ui", "volume", "语音音量", "", low=0.0, high=1.0, step=0.1, read=lambda s: s.ui.volume
    ),
    "paper_width": SafeSetting(
        "paper_width",
        "devices.printer",
        "paper_width",
        "打印纸宽度",
        "毫米",
        choices=(58, 80),
        live=False,
        read=lambda s: s.devices.printer.paper_width,
    ),
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def edit_toml(text: str, section: str, key: str, value: Any) -> str:
    """Set ``key`` in ``[section]`` of TOML ``text``, keeping every other line and comment."""
    lines = text.splitlines()
    header = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
    key_re = re.compile(rf"^(\s*{re.escape(key)}\s*=\s*)(\"(?:[^\"\\]|\\.)*\"|[^#]*?)(\s*#.*)?$")
    start = next((i for i, ln in enumerate(lines) if (m := header.match(ln)) and m.group(1).strip() == section), None)
    new = f"{key} = {_toml_value(value)}"
    if start is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines += [f"[{section}]", new]
        return "\n".join(lines) + "\n"
    end = next((i for i in range(start + 1, len(lines)) if header.match(lines[i])), len(lines))
    for i in range(start + 1, end):
        m = key_re.match(lines[i])
        if m:
            lines[i] = m.group(1) + _toml_value(value) + (m.group(3) or "")
            return "\n".join(lines) + "\n"
    insert_at = start + 1
    lines.insert(insert_at, new)
    return "\n".join(lines) + "\n"


def save_settings(cfg: config_mod.Config, changes: dict[str, Any], path: Path | None = None) -> dict[str, Any]:
    """Validate ``changes`` (keys of SAFE_SETTINGS), write them atomically to the settings file, update ``cfg``.

    The settings file lives in the state directory (``<storage dir>/settings.toml``),
    not beside the config: under the shipped unit (``ProtectSystem=strict``) the
    config directory is read-only. ``config.load`` applies it over the config
    file. Every value is checked before anything is written. Returns the stored
    values; a write failure is a StorageError with a Chinese message.
    """
    path = Path(path or config_mod.settings_path(cfg))
    stored: dict[str, Any] = {}
    settings = cfg.settings
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        tomllib.loads(text)
    except (OSError, ValueError):
        text = ""  # a damaged settings file is replaced by the new one
    for name, value in changes.items():
        spec = SAFE_SETTINGS.get(name)
        if spec is None:
            raise ConfigError(f"{name} is not a setting technicians may change", "此项设置不能在这里修改。")
        value = spec.validate(value)
        config_mod._check(spec.section, spec.name, value, "settings")
        if spec.section == "ui":  # rules relating several settings: the one place they are checked
            settings = dataclasses.replace(settings, ui=dataclasses.replace(settings.ui, **{spec.name: value}))
            check_settings(settings)
        text = edit_toml(text, spec.section, spec.name, value)
        stored[name] = value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, text, mode=0o640)
    except OSError as exc:
        raise StorageError(
            f"cannot save settings to {path}: {exc}", "设置未能保存（本机存储出错），请联系运维人员。"
        ) from exc
    for name, value in stored.items():
        spec = SAFE_SETTINGS[name]
        cfg[spec.section][spec.name] = value
    log.info("settings saved to %s: %s", path, stored)
    return stored


# ---------------------------------------------------------------------------
# Staff login and the session


def account_from_platform(staff: PlatformStaffAccount) -> sa.StaffAccount:
    """The platform adapter's StaffAccount -> staff_auth's."""
    last = staff.last_login
    if isinstance(last, str):
        last = _dt.date.fromisoformat(last) if last else None
    return sa.StaffAccount(
        account_id=staff.username,
        name=staff.name,
        id_number=staff.id_number,
        roles=sa.parse_roles(staff.roles),
        last_login=last,
        source="platform",
    )


class SelftestResult(Protocol):
    """One check of the self-test as technician mode keeps it (kiosk.selftest.CheckResult)."""

    name: str
    ok: bool

    def to_dict(self) -> dict[str, Any]: ...


#: Runs the self-test: ``(test_page, on_result) -> results`` (the technician screens pass one over the app's devices).
SelftestRunner = Callable[[bool, Callable[[Any], None] | None], Sequence[SelftestResult]]

#: The platform client, or a function returning it when first needed (None: no platform in this app).
PlatformSource = Union["Platform", Callable[[], Union["Platform", None]], None]


class TechMode:
    """``TechMode(cfg, platform=None | Platform | callable returning one, selftest=None | SelftestRunner)``."""

    def __init__(
        self,
        cfg: config_mod.Config,
        *,
        platform: PlatformSource = None,
        selftest: SelftestRunner | None = None,
        clock: Callable[[], float] = time.time,
        today: Callable[[], _dt.date] = clock.today,
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cfg = cfg
        self._platform = platform
        self._selftest = selftest
        self.clock = clock
        self.today = today
        self.dir = cfg.storage_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.audit = AuditLog(self.dir / AUDIT_FILE)
        # Per account, on monotonic time (issue 12, fault 9); the wall clock only dates the file.
        self.throttles = sa.ThrottleBook(clock=mono, wall=clock)
        self._throttle_path = self.dir / THROTTLE_FILE
        try:
            bad = self.throttles.restore(json.loads(self._throttle_path.read_text(encoding="utf-8")[:1_000_000]))
            if bad:
                log.error("login throttle file %s: %d unusable entr(ies) dropped", self._throttle_path, len(bad))
        except FileNotFoundError:
            pass
        except Exception as exc:
            # An older (version 1, wall-clock) file also lands here: at most one lockout is forgotten.
            log.error(
                "login throttle file %s unreadable (%s); starting afresh",
                self._throttle_path,
                f"{type(exc).__name__}: {str(exc)[:80]}",
            )
            self.throttles = sa.ThrottleBook(clock=mono, wall=clock)
        self.session: sa.StaffSession | None = None
        self.last_selftest: list[SelftestResult] = []
        self._ledger: FaultLedger | None = None
        self._lock = threading.Lock()

    @property
    def throttle(self) -> sa.LoginThrottle:
        """The QR-login throttle (QR codes name no account before the platform verified them)."""
        return self.throttles.for_account("")

    def throttle_for(self, account_id: str) -> sa.LoginThrottle:
        """An account's PIN-login throttle as it stands (for 还可以再试 N 次)."""
        return self.throttles.peek(account_id)

    # -- platform --------------------------------------------------------------
    @property
    def platform(self) -> Platform:
        """The platform client handed in; PlatformError (shown as such) when this app has none."""
        p = self._platform
        if callable(p) and not hasattr(p, "verify_essc"):
            p = self._platform = p()
        if p is None:
            raise PlatformError(
                "technician mode was given no platform client", "本机没有连接服务平台，请用离线密码登录。"
            )
        return p  # type: ignore[return-value]  # not callable once resolved

    # -- login ------------------------------------------------------------------
    def _finish(self, result: sa.LoginResult) -> sa.LoginResult:
        try:
            write_text_atomic(self._throttle_path, json.dumps(self.throttles.to_dict()), mode=0o600)
        except OSError as exc:  # a full disk must not turn a login into a crash; the limit holds in memory
            log.error("login throttle file %s not written: %s", self._throttle_path, exc)
        self.audit.append("staff.login", **result.audit_fields())
        if result.ok:
            self.session = result.session
            log.info("technician mode opened by %s", result.session.account.audit_actor)  # type: ignore[union-attr]
        else:
            log.warning(
                "technician login refused (%s, %s)", result.method, result.error.reason if result.error else "?"
            )
        return result

    def login_qr(self, qr_text: str) -> sa.LoginResult:
        """Verify a staff e-SSC QR code with the platform. PlatformError (platform down) propagates, unaudited
        as a failure: the screen then offers the offline PIN."""
        from kiosk.platform.adapter import Refused

        def authenticate() -> sa.StaffAccount:
            try:
                ident = self.platform.verify_essc(qr_text.strip())
            except Refused as exc:
                if exc.code == "account_locked":
                    raise sa.AccountDormant(f"platform: {exc}", exc.reason_zh) from None
                raise sa.BadCredentials(f"platform refused the QR code: {exc.code}", exc.reason_zh) from None
            if ident.kind != "staff" or ident.staff is None:
                raise sa.NoPermission(
                    "a resident's e-SSC QR code was shown at the technician login",
                    "这是居民的电子社保卡，请出示工作人员本人的电子社保卡二维码。",
                )
            return account_from_platform(ident.staff)

        try:
            result = sa.login(
                self.throttles.for_account(""),
                authenticate,
                method="qr",
                account_id="",
                today=self.today(),
                now=self.clock(),
            )
        except PlatformError as exc:
            # Not a wrong credential (no throttle count), but still on record.
            self.audit.append(
                "staff.login",
                outcome="failed",
                actor="staff:?",
                method="qr",
                reason="platform_unreachable",
                error=type(exc).__name__,
            )
            raise
        return self._finish(result)

    def login_pin(self, account_id: str, pin: str) -> sa.LoginResult:
        path = self.dir / OFFLINE_FILE
        creds = sa.OfflineCredentials.load(path)

        def authenticate() -> sa.StaffAccount:
            account = creds.verify(account_id, pin, self.today())
            creds.save(path)  # one-time codes used, last_login updated
            return account

        result = sa.login(
            self.throttles.for_account(account_id),
            authenticate,
            method="offline_pin",
            account_id=account_id.strip(),
            today=self.today(),
            now=self.clock(),
        )
        return self._finish(result)

    def can(self, feature: str) -> bool:
        return self.session is not None and self.session.can(sa.Feature(feature))

    def require(self, feature: str) -> None:
        if self.session is None:
            raise sa.NoPermission("no technician session", "请先登录。")
        self.session.require(sa.Feature(feature))

    @property
    def actor(self) -> str:
        return self.session.account.audit_actor if self.session else "system"

    @property
    def who_zh(self) -> str:
        if self.session is None:
            return ""
        acc = self.session.account
        roles = "、".join(sa.ROLE_NAMES_ZH[r] for r in sorted(acc.roles, key=lambda r: r.value))
        from kiosk.core.idnumber import mask_name

        return f"{mask_name(acc.name)}（{roles}）"

    def end_session(self, reason: str = "left technician mode") -> None:
        """Wipe the staff session and everything shown in it."""
        with self._lock:
            session, self.session = self.session, None
            self.last_selftest = []
        if session is not None:
            self.audit.append("staff.logout", actor=session.account.audit_actor, reason=reason)
            log.info("technician session ended (%s)", reason)

    # -- actions ----------------------------------------------------------------
    def run_selftest(
        self, *, test_page: bool = False, on_result: Callable[[Any], None] | None = None
    ) -> list[SelftestResult]:
        """Run the self-test handed in at construction; the results go with a fault report."""
        self.require("selftest")
        if self._selftest is None:
            raise KioskError("technician mode was given no self-test", "本机无法运行自检，请反映系统问题。")
        results = list(self._selftest(test_page, on_result))
        self.last_selftest = results
        self.audit.append("selftest.run", actor=self.actor, failed=[r.name for r in results if not r.ok])
        return results

    def current_settings(self) -> dict[str, Any]:
        """The values the settings screen starts from (from the typed settings)."""
        settings = self.cfg.settings
        return {name: spec.current(settings) for name, spec in SAFE_SETTINGS.items()}

    def change_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        self.require("edit_settings")
        try:
            stored = save_settings(self.cfg, changes)
        except (ConfigError, StorageError) as exc:
            self.audit.append("settings.change", outcome="failed", actor=self.actor, changes=changes, error=str(exc))
            raise
        self.audit.append("settings.change", actor=self.actor, changes=stored)
        return stored

    def request_restart(self) -> int:
        self.require("restart_app")
        self.audit.append("app.restart", actor=self.actor, exit_code=RESTART_EXIT_CODE)
        self.end_session("restart")
        return RESTART_EXIT_CODE

    @property
    def ledger(self) -> FaultLedger:
        if self._ledger is None:
            from kiosk.flows.fault_report import FaultLedger

            self._ledger = FaultLedger.for_config(self.cfg, self.platform)
        return self._ledger

    def report_fault(
        self,
        category: str,
        phrases: list[str],
        text: str = "",
        suggestion: str = "",
        log_lines: list[str] | None = None,
    ) -> FaultRecord:
        self.require("fault_report")
        from kiosk import logbuffer

        acc = self.session.account  # type: ignore[union-attr]
        rec = self.ledger.report(
            category,
            phrases,
            text,
            suggestion,
            reporter=acc.audit_actor.removeprefix("staff:"),
            selftest=self.last_selftest,
            names=[acc.name],
            log_lines=logbuffer.recent(200) if log_lines is None else log_lines,
        )
        self.audit.append(
            "fault.report",
            actor=self.actor,
            local_id=rec.local_id,
            category=category,
            fault_no=rec.fault_no,
            state=rec.state,
        )
        return rec

    def refresh_faults(self) -> tuple[int, int]:
        """Send pending reports, fetch replies; (sent, new replies). Raises PlatformError when down."""
        sent = self.ledger.send_pending()
        return sent, self.ledger.refresh_replies()

    def close(self) -> None:
        self.end_session("closing")
        if self._ledger is not None:
            self._ledger.close()
        self.audit.close()


__all__ = ["RESTART_EXIT_CODE", "SAFE_SETTINGS", "TechMode", "edit_toml", "save_settings"]
