"""Technician mode screens: login, home, self-test, log, outbox, receipts, info, settings, faults.

Loaded by the app through ``register(app, sm)`` (see kiosk.app.screen_modules). The
screens are thin: every rule and every file/network action is in
``kiosk.flows.tech_mode.TechMode`` (Kivy-free, tested without a window),
run on worker threads; results come back to the UI thread through Clock.

Leaving technician mode in any way (the exit button, the idle timeout, a
card inserted, a restart) wipes the staff session and what the screens
showed.
"""

from __future__ import annotations

import logging
import os
import platform as _pyplatform
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

from kivy.app import App
from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label

from kiosk.core import clock
from kiosk import __version__, logbuffer
from kiosk.core.errors import KioskError
from kiosk.flows import fault_report as fr
from kiosk.flows.tech_mode import SAFE_SETTINGS, TechMode
from kiosk.screens.widgets import KButton, KioskScreen, KKey

log = logging.getLogger("kiosk.tech")

KV_FILE = Path(__file__).with_name("technician.kv")
MARK = "√ "  # selected choice (the CJK font has U+221A)


# ---------------------------------------------------------------------------
# Controller: owns TechMode, navigation inside technician mode, worker threads


class TechController(EventDispatcher):
    who = StringProperty("")

    def __init__(self, app: Any, sm: Any, mode: TechMode | None = None) -> None:
        super().__init__()
        self.app = app
        self.sm = sm
        self.mode = mode or TechMode(app.cfg, platform=lambda: self.platform)
        self.generation = 0  # bumped at every wipe: late worker results for an old session are dropped
        sm.bind(current=self._on_screen)

    # -- the app's link to the platform (kiosk.backend.Backend), when it has one --
    @property
    def platform(self) -> Any:
        backend = getattr(self.app, "backend", None)
        return getattr(backend, "platform", None) or getattr(self.app, "platform", None)

    @property
    def outbox(self) -> Any:
        backend = getattr(self.app, "backend", None)
        return getattr(backend, "outbox", None) or getattr(self.app, "outbox", None)

    # -- navigation ---------------------------------------------------------
    def home(self) -> None:
        self.app.go("tech_home", _push=False)

    def open(self, screen: str) -> None:
        self.app.go(screen, _push=False)

    def leave(self) -> None:
        self.wipe("technician left")
        self.app.go_attract()

    def _on_screen(self, _sm: Any, name: str) -> None:
        if not name.startswith("tech_") and (self.mode.session is not None or self.who):
            self.wipe(f"left technician mode for {name}")

    def wipe(self, reason: str) -> None:
        """End the staff session and clear every technician screen."""
        self.generation += 1
        self.mode.end_session(reason)
        self.who = ""
        for screen in self.sm.screens:
            if isinstance(screen, TechBase):
                screen.wipe()

    def logged_in(self, result: Any) -> None:
        self.who = self.mode.who_zh
        fleet = getattr(self.app, "fleet", None)
        if fleet is not None and result.session is not None:
            # The county sees who serviced the kiosk: the account only, never a name or ID number.
            fleet.event("technician_login", account=result.session.account.account_id, method=result.method)
        self.home()

    # -- threads ------------------------------------------------------------
    def background(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Run ``work`` on a worker thread; ``done(result or exception)`` on the UI thread."""
        gen = self.generation

        def run() -> None:
            try:
                result: Any = work()
            except Exception as exc:  # noqa: BLE001 - shown on screen
                if not isinstance(exc, KioskError):
                    log.exception("technician action failed")
                result = exc
            Clock.schedule_once(lambda _dt: done(result) if gen == self.generation else None)

        threading.Thread(target=run, name="tech-action", daemon=True).start()

    def restart(self) -> None:
        code = self.mode.request_restart()
        self.app.exit_code = code  # kiosk run returns it; systemd (Restart=always) starts the kiosk again
        log.info("technician restart: app exits with %d", code)
        self.app.stop()


class TechNav(BoxLayout):
    controller = ObjectProperty(None, allownone=True)
    show_home = BooleanProperty(True)


# ---------------------------------------------------------------------------
# Screens


def _ctl() -> TechController:
    return App.get_running_app().plugins_tech


def label(text: str, *, color: Any = None, small: bool = False, title: bool = False, **kw: Any) -> Label:
    w = Factory.TechSmallLabel(text=text, **kw) if small else (Factory.KTitle(text=text, **kw) if title
                                                               else Factory.KLabel(text=text, **kw))
    if color is not None:
        w.color = color
    return w


def button(text: str, on: Callable[[], None], *, danger: bool = False, **kw: Any) -> KButton:
    b = KButton(text=text, danger=danger, **kw)
    b.bind(on_release=lambda _b: on())
    return b


def choice(text: str, on: Callable[[], None]) -> KButton:
    """A choice button that grows with its wrapped text, so a mark and two lines stay inside it."""
    b = button(text, on)
    base = b.height
    b.bind(texture_size=lambda w, ts: setattr(w, "height", max(base, ts[1] + 32)))
    return b


class TechBase(KioskScreen):
    controller = ObjectProperty(None, allownone=True)
    who = StringProperty("")
    #: technician-mode feature needed to open the screen (staff_auth.Feature value), None: any session
    feature: str | None = None

    def show(self, **params: Any) -> None:
        ctl = self.controller
        self.who = ctl.who
        if self.feature is not None:
            if ctl.mode.session is None:
                Clock.schedule_once(lambda _dt: ctl.app.go("tech_login", _push=False))
                return
            if not ctl.mode.can(self.feature):
                Clock.schedule_once(lambda _dt: ctl.home())
                return
        self.fill(**params)

    def fill(self, **params: Any) -> None:  # pragma: no cover - overridden
        pass

    def wipe(self) -> None:
        self.who = ""


class TechPage(TechBase):
    title = StringProperty("")
    show_home = BooleanProperty(True)

    def clear(self) -> None:
        self.ids.body.clear_widgets()
        self.ids.actions.clear_widgets()
        self.ids.scroll.scroll_y = 1

    def wipe(self) -> None:
        super().wipe()
        self.clear()


class TechLoginScreen(TechBase):
    message = StringProperty("")      # QR login (left column)
    pin_message = StringProperty("")  # offline PIN login: right under the keypad
    pin = StringProperty("")

    def account_touched(self, field, touch) -> bool:
        if not field.collide_point(*touch.pos):
            return False
        from kiosk.screens.keyboards import open_keyboard

        def done(text: str) -> None:
            field.text = text.strip()

        open_keyboard("alnum", "账号", field.text, done, hint="请输入本人账号（字母和数字）")
        return True

    def on_kv_post(self, _base: Any) -> None:
        pad = self.ids.keypad
        for key in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "删除", "清空"]:
            b = KKey(text=key)  # compact keys (row height set by the keypad grid) leave room for the rest
            b.bind(on_release=lambda btn: self.key(btn.text))
            pad.add_widget(b)

    def fill(self, **_params: Any) -> None:
        self.message = ""
        self.pin_message = ""
        self.pin = ""

    def key(self, k: str) -> None:
        if k == "删除":
            self.pin = self.pin[:-1]
        elif k == "清空":
            self.pin = ""
        elif len(self.pin) < 12:
            self.pin += k

    def wipe(self) -> None:
        super().wipe()
        self.pin = ""
        self.message = ""
        self.pin_message = ""
        if self.ids:
            self.ids.qr.text = ""
            self.ids.account.text = ""

    def submit_qr(self, text: str) -> None:
        """Also the entry point for the camera login area: pass the decoded QR text."""
        if not text.strip():
            self.message = "请先扫描或粘贴二维码。"
            return
        self.message = "正在向服务平台核验……"
        ctl = self.controller
        ctl.background(lambda: ctl.mode.login_qr(text), self._done)

    def submit_pin(self, account: str, pin: str) -> None:
        if not account.strip() or not pin:
            self.pin_message = "请先点“账号”输入本人账号，再用数字键输入密码。" if not account.strip() \
                else "请用上面的数字键输入密码。"
            return
        self.pin_message = "正在核对……"
        ctl = self.controller
        ctl.background(lambda: ctl.mode.login_pin(account, pin), self._done)

    def _done(self, result: Any) -> None:
        self.pin = ""
        pin_login = getattr(result, "method", "") == "offline_pin"
        if isinstance(result, KioskError):  # platform down during QR verification
            self.message = (result.message_zh or "") + "\n平台不通时，请用右边的离线密码登录。"
            return
        if isinstance(result, Exception):
            self.message = "登录出错，请重试。"
            return
        if not result.ok:
            if pin_login:
                self.pin_message = result.message_zh + self._tries_left(result.account_id)
            else:
                self.message = result.message_zh
            return
        self.ids.qr.text = ""
        self.ids.account.text = ""
        self.message = self.pin_message = ""
        self.controller.logged_in(result)

    def _tries_left(self, account_id: str) -> str:
        """How many wrong PINs are left before this account's logins lock (said beside the keypad)."""
        throttle = self.controller.mode.throttle_for(account_id)
        if throttle.retry_after() > 0:
            return ""  # the lockout message already says how long to wait
        left = throttle.remaining_attempts()
        return f"还可以再试 {left} 次。" if left else ""


# (feature, button text, screen)
HOME_ITEMS = [
    ("selftest", "设备自检", "tech_selftest"),
    ("view_logs", "查看日志", "tech_log"),
    ("view_status", "待提交业务", "tech_outbox"),
    ("view_receipts", "最近凭条", "tech_receipts"),
    ("view_status", "版本与配置", "tech_info"),
    ("edit_settings", "修改设置", "tech_settings"),
    ("fault_report", "反映问题", "tech_fault"),
    ("fault_report", "问题台账与回复", "tech_faults"),
]


class TechHomeScreen(TechPage):
    feature = None

    def fill(self, **_params: Any) -> None:
        ctl = self.controller
        if ctl.mode.session is None:
            Clock.schedule_once(lambda _dt: ctl.app.go("tech_login", _push=False))
            return
        self.title = "维护模式"
        self.show_home = False
        self.clear()
        self._restart_armed = False
        body = self.ids.body
        body.add_widget(label(f"{ctl.app.cfg['site']['name']}　设备编号 {ctl.app.cfg['site']['device_id']}"))
        grid = GridLayout(cols=3, spacing=24, size_hint_y=None)
        grid.bind(minimum_height=grid.setter("height"))
        for feature, text, screen in HOME_ITEMS:
            if ctl.mode.can(feature):
                grid.add_widget(button(text, lambda s=screen: ctl.open(s)))
        if ctl.mode.can("restart_app"):
            self._restart_btn = button("重启程序", self._restart, danger=True)
            grid.add_widget(self._restart_btn)
        body.add_widget(grid)

    def _restart(self) -> None:
        if not self._restart_armed:
            self._restart_armed = True
            self._restart_btn.text = "再按一次确认重启"
            Clock.schedule_once(lambda _dt: self._disarm(), 5)
            return
        self.controller.restart()

    def _disarm(self) -> None:
        self._restart_armed = False
        if getattr(self, "_restart_btn", None) is not None:
            self._restart_btn.text = "重启程序"


class TechSelftestScreen(TechPage):
    feature = "selftest"
    running = BooleanProperty(False)

    def fill(self, test_page: bool = False, **_params: Any) -> None:
        self.title = "设备自检"
        self.clear()
        self.rows: dict[str, Any] = {}
        actions = self.ids.actions
        actions.add_widget(button("重新自检", lambda: self.start(False)))
        actions.add_widget(button("自检并打印测试页", lambda: self.start(True)))
        self.summary = label("", title=True)
        self.ids.body.add_widget(self.summary)
        self.start(test_page)

    def start(self, test_page: bool) -> None:
        if self.running:
            return
        self.running = True
        self.results: list[Any] = []
        for w in list(self.rows.values()):
            self.ids.body.remove_widget(w)
        self.rows = {}
        self.summary.text = "正在自检，请稍候……"
        self.summary.color = App.get_running_app().theme.fg
        ctl = self.controller
        app = ctl.app

        def progress(res: Any) -> None:
            Clock.schedule_once(lambda _dt: self._add_row(res))

        ctl.background(lambda: ctl.mode.run_selftest(app.devices, outbox=ctl.outbox,
                                                      test_page=test_page, on_result=progress), self._done)

    def _add_row(self, res: Any) -> None:
        if not self.running and res.name in self.rows:
            return
        theme = App.get_running_app().theme
        card = BoxLayout(orientation="vertical", size_hint_y=None, spacing=4, padding=[0, 8])
        card.bind(minimum_height=card.setter("height"))
        head = BoxLayout(size_hint_y=None, height=max(64, theme.huge * 1.3), spacing=24)
        head.add_widget(Factory.KTitle(text=res.title_zh, size_hint_x=0.6))
        status = Factory.KTitle(text=res.status_zh, size_hint_x=0.4, font_size=theme.huge, halign="right")
        status.color = theme.ok if res.ok else theme.accent
        head.add_widget(status)
        card.add_widget(head)
        card.add_widget(label(res.detail_zh))
        card.result = res
        card.status_label = status
        self.rows[res.name] = card
        self.ids.body.add_widget(card)

    def _done(self, result: Any) -> None:
        self.running = False
        theme = App.get_running_app().theme
        if isinstance(result, Exception):
            self.summary.text = getattr(result, "message_zh", None) or "自检出错，请重试。"
            self.summary.color = theme.accent
            return
        self.results = result
        for res in result:  # rows missed by progress (none normally)
            if res.name not in self.rows:
                self._add_row(res)
        from kiosk.selftest import summary_zh

        bad = [r for r in result if not r.ok]
        # Failures first: the technician reads what to fix without scrolling.
        body = self.ids.body
        order = [r.name for r in result if not r.ok] + [r.name for r in result if r.ok]
        for name in order:
            body.remove_widget(self.rows[name])
        for name in order:
            body.add_widget(self.rows[name])
        self.summary.text = ("自检完成：" + summary_zh(result)) + ("" if not bad else "。请按下面的提示处理，处理后点“重新自检”。")
        self.summary.color = theme.ok if not bad else theme.accent
        if bad and self.controller.mode.can("fault_report"):
            self.ids.actions.add_widget(button("反映问题", lambda: self.controller.open("tech_fault")))


class TechLogScreen(TechPage):
    feature = "view_logs"

    def fill(self, **_params: Any) -> None:
        self.title = "最近日志"
        self.clear()
        self.ids.actions.add_widget(button("刷新", self.fill))
        buf = logbuffer.get()
        lines = buf.lines(200) if buf else []
        if not lines:
            self.ids.body.add_widget(label("没有日志。"))
            return
        self.ids.body.add_widget(label(f"最近 {len(lines)} 行，最新的在最上面（身份证号已隐去）："))
        for line in reversed(lines):
            w = label(line, small=True)
            if " ERROR " in line or " WARNING " in line:
                w.color = App.get_running_app().theme.accent
            self.ids.body.add_widget(w)


class TechOutboxScreen(TechPage):
    feature = "view_status"

    def fill(self, **_params: Any) -> None:
        self.title = "待提交业务"
        self.clear()
        app = self.controller.app
        outbox = self.controller.outbox
        body = self.ids.body
        if outbox is not None:
            s = outbox.status()
            self.ids.actions.add_widget(button("立即重试", lambda: (outbox.kick(), Clock.schedule_once(lambda _d: self.fill(), 1))))
            if not (s.pending or s.failed):
                body.add_widget(label("没有暂存的业务，全部已提交。", title=True, color=app.theme.ok))
            body.add_widget(label(f"待提交 {s.pending} 笔，已提交 {s.delivered} 笔，未受理 {s.refused} 笔，需处理 {s.failed} 笔。"))
            if s.last_error:
                body.add_widget(label(f"最近一次失败：{s.last_error}", small=True))
            entries = [(q.ref, q.item_no, q.state, q.attempts, q.masked_id, q.last_error) for q in reversed(s.queue)]
        else:
            from kiosk.selftest import OUTBOX_FILE, _outbox_counts_from_file

            path = app.cfg.storage_dir / OUTBOX_FILE
            counts = None
            try:
                counts = _outbox_counts_from_file(path)
            except ValueError:
                body.add_widget(label("暂存业务数据文件损坏，请反映系统问题。", color=app.theme.accent))
            if not counts:
                body.add_widget(label("没有暂存的业务。", title=True))
                return
            body.add_widget(label(f"待提交 {counts['pending']} 笔，已提交 {counts['delivered']} 笔，"
                                  f"未受理 {counts['refused']} 笔，需处理 {counts['failed']} 笔。", title=True))
            entries = []
        state_zh = {"pending": "待提交", "delivered": "已提交", "refused": "未受理", "failed": "需处理"}
        for ref, item, state, attempts, masked, err in entries[:50]:
            text = f"{ref}　第{item}项　{state_zh.get(state, state)}　尝试{attempts}次　{masked}"
            body.add_widget(label(text + (f"\n{err}" if err else ""), small=True,
                                  color=app.theme.accent if state == "failed" else None))


def receipt_jobs(app: Any, limit: int = 3) -> list[tuple[str, bytes]]:
    """The newest print jobs: this session's (printer memory) and the simulated printer's files."""
    jobs: list[tuple[str, bytes]] = []
    printer = getattr(app.devices, "printer", None)
    for rec in reversed(getattr(printer, "session_jobs", []) or []):
        jobs.append((rec.label or rec.key[:8], rec.data))
    c = app.cfg["devices.printer"]
    if c["driver"] == "sim":
        out = Path(c["sim_out"])
        out = out if out.is_absolute() else app.cfg.storage_dir / out  # where DeviceHub's simulator saves
        files = sorted(out.glob("job-*.bin"), key=lambda p: p.stat().st_mtime, reverse=True) if out.is_dir() else []
        for f in files[:limit]:
            jobs.append((f.name, f.read_bytes()))
    return jobs[:limit]


class TechReceiptsScreen(TechPage):
    feature = "view_receipts"

    def fill(self, **_params: Any) -> None:
        self.title = "最近凭条"
        self.clear()
        app = self.controller.app
        self.ids.actions.add_widget(button("刷新", self.fill))
        jobs = receipt_jobs(app)
        if not jobs:
            self.ids.body.add_widget(label("还没有打印过凭条。"))
            return
        from kiosk.hardware.escpos_render import decode, render_png

        width = 576 if app.cfg["devices.printer"]["paper_width"] == 80 else 384
        self._tmp = tempfile.mkdtemp(prefix="kiosk-receipts-")
        for i, (name, data) in enumerate(jobs):
            path = os.path.join(self._tmp, f"receipt-{i}.png")
            try:
                page = render_png(decode(data), width, path)
            except Exception as exc:  # noqa: BLE001 - a garbled job must not break the screen
                self.ids.body.add_widget(label(f"{name}：无法显示（{type(exc).__name__}）", small=True))
                continue
            self.ids.body.add_widget(label(name, small=True))
            w, h = page.size
            img = Image(source=path, size_hint=(None, None), size=(w, h), nocache=True)
            self.ids.body.add_widget(img)
        self.images = len(jobs)

    def wipe(self) -> None:
        super().wipe()
        tmp = getattr(self, "_tmp", None)
        if tmp:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
            self._tmp = None


class TechInfoScreen(TechPage):
    feature = "view_status"

    def fill(self, **_params: Any) -> None:
        import kivy

        self.title = "版本与配置"
        self.clear()
        app = self.controller.app
        body = self.ids.body
        body.add_widget(label("版本", title=True))
        for line in (f"自助机软件 {__version__}", f"Python {sys.version.split()[0]}　Kivy {kivy.__version__}",
                     f"系统 {_pyplatform.platform()}", f"设备编号 {app.cfg['site']['device_id']}　服务点 {app.cfg['site']['name']}",
                     f"配置文件 {app.cfg.source or '（内置默认值）'}"):
            body.add_widget(label(line, small=True))
        from kiosk.core.alerts import alerts

        pending = alerts()
        if pending:
            body.add_widget(label("需要处理", title=True, color=app.theme.accent))
            for alert in pending:
                body.add_widget(label(alert.text_zh, small=True))
        states = app.devices.status()
        if states:
            body.add_widget(label("设备状态", title=True))
            for st in states.values():
                body.add_widget(label(f"{st.name}：{st.driver} {st.status} {st.detail}", small=True))
        body.add_widget(label("配置（密钥已隐藏）", title=True))
        for section, values in app.cfg.public_view().items():
            text = f"[{section}]\n" + "\n".join(f"{k} = {v!r}" for k, v in values.items())
            body.add_widget(label(text, small=True))


class TechSettingsScreen(TechPage):
    feature = "edit_settings"
    message = StringProperty("")

    def fill(self, **_params: Any) -> None:
        self.title = "修改设置"
        self.clear()
        cfg = self.controller.app.cfg
        self.values = {name: cfg[s.section][s.name] for name, s in SAFE_SETTINGS.items()}
        self.value_labels: dict[str, Any] = {}
        body = self.ids.body
        for name, spec in SAFE_SETTINGS.items():
            body.add_widget(label(spec.label_zh + ("（重启后生效）" if not spec.live else ""), title=True))
            row = BoxLayout(size_hint_y=None, height=100, spacing=24)
            if spec.choices:
                for choice in spec.choices:
                    row.add_widget(button(f"{choice}{spec.unit_zh}", lambda n=name, c=choice: self.set(n, c)))
            else:
                row.add_widget(button("减少", lambda n=name: self.step(n, -1)))
                row.add_widget(button("增加", lambda n=name: self.step(n, +1)))
            value = label("", title=True, size_hint_x=0.8)
            self.value_labels[name] = value
            row.add_widget(value)
            body.add_widget(row)
        self.msg = label("", color=self.controller.app.theme.accent)
        body.add_widget(self.msg)
        self.ids.actions.add_widget(button("保存设置", self.save))
        self._refresh()

    def _refresh(self) -> None:
        for name, w in self.value_labels.items():
            spec = SAFE_SETTINGS[name]
            v = self.values[name]
            shown = f"{int(round(v * 100))}%" if name == "volume" else f"{v}{spec.unit_zh}"
            w.text = f"当前：{shown}"

    def set(self, name: str, value: Any) -> None:
        self.values[name] = value
        self._refresh()

    def step(self, name: str, direction: int) -> None:
        spec = SAFE_SETTINGS[name]
        v = self.values[name] + direction * spec.step
        v = max(spec.low, min(spec.high, v))  # type: ignore[type-var]
        self.values[name] = round(v, 2) if isinstance(spec.step, float) else int(v)
        self._refresh()

    def save(self) -> None:
        app = self.controller.app
        changed = {n: v for n, v in self.values.items()
                   if v != app.cfg[SAFE_SETTINGS[n].section][SAFE_SETTINGS[n].name]}
        if not changed:
            self.msg.text = "设置没有变化。"
            return
        try:
            stored = self.controller.mode.change_settings(changed)
        except KioskError as exc:
            self.msg.text = exc.message_zh or "设置无效。"
            return
        if "idle_timeout" in stored and not app.theme.elder:
            from kiosk.flows.session import IdleTimer

            app.idle = IdleTimer(app.cfg["ui"]["idle_timeout"], app.cfg["ui"]["idle_warning"])
        later = [SAFE_SETTINGS[n].label_zh for n in stored if not SAFE_SETTINGS[n].live]
        self.msg.text = "已保存。" + (f"{'、'.join(later)}重启程序后生效。" if later else "")
        self.msg.color = app.theme.ok


class TechFaultScreen(TechPage):
    feature = "fault_report"

    def fill(self, **_params: Any) -> None:
        self.title = "反映问题"
        self.clear()
        self.category = "system"
        self.phrases: list[str] = []
        self.suggestion = ""
        body = self.ids.body
        body.add_widget(label("问题分类（系统性、功能性问题报省工作专班；业务指导性问题报县人社部门）"))
        self.cat_row = GridLayout(cols=3, spacing=16, size_hint_y=None)
        self.cat_row.bind(minimum_height=self.cat_row.setter("height"))
        self.cat_buttons = {}
        for key, cat in fr.CATEGORIES.items():
            b = choice(cat.name_zh, lambda k=key: self.choose_category(k))
            self.cat_buttons[key] = b
            self.cat_row.add_widget(b)
        body.add_widget(self.cat_row)
        body.add_widget(label("问题描述（可多选）"))
        self.phrase_grid = GridLayout(cols=2, spacing=16, size_hint_y=None)
        self.phrase_grid.bind(minimum_height=self.phrase_grid.setter("height"))
        body.add_widget(self.phrase_grid)
        self.extra = Factory.TechInput(hint_text="补充说明（可选，可粘贴）")
        body.add_widget(self.extra)
        body.add_widget(label("解决建议"))
        self.sugg_grid = GridLayout(cols=3, spacing=16, size_hint_y=None)
        self.sugg_grid.bind(minimum_height=self.sugg_grid.setter("height"))
        self.sugg_buttons = {}
        for s in fr.PRESET_SUGGESTIONS:
            b = choice(s, lambda s=s: self.choose_suggestion(s))
            self.sugg_buttons[s] = b
            self.sugg_grid.add_widget(b)
        body.add_widget(self.sugg_grid)
        last = self.controller.mode.last_selftest
        body.add_widget(label("将附上：设备编号、服务点、" + ("本次自检结果、" if last else "")
                              + "最近日志（个人信息已隐去）。", small=True))
        # Submit comes after the choices it sends, with its answer right below it.
        body.add_widget(button("提交问题", self.submit))
        self.msg = label("")
        body.add_widget(self.msg)
        self.ids.actions.add_widget(button("问题台账", lambda: self.controller.open("tech_faults")))
        self.choose_category("system")

    def choose_category(self, key: str) -> None:
        self.category = key
        for k, b in self.cat_buttons.items():
            b.text = (MARK if k == key else "") + fr.CATEGORIES[k].name_zh
        self.phrases = [p for p in self.phrases if p in fr.PRESET_PHRASES[key]]
        self.phrase_grid.clear_widgets()
        self.phrase_buttons = {}
        for p in fr.PRESET_PHRASES[key]:
            b = choice(p, lambda p=p: self.toggle_phrase(p))
            self.phrase_buttons[p] = b
            self.phrase_grid.add_widget(b)
        self._mark_phrases()

    def toggle_phrase(self, phrase: str) -> None:
        if phrase in self.phrases:
            self.phrases.remove(phrase)
        else:
            self.phrases.append(phrase)
        self._mark_phrases()

    def _mark_phrases(self) -> None:
        for p, b in self.phrase_buttons.items():
            b.text = (MARK if p in self.phrases else "") + p

    def choose_suggestion(self, s: str) -> None:
        self.suggestion = "" if self.suggestion == s else s
        for k, b in self.sugg_buttons.items():
            b.text = (MARK if k == self.suggestion else "") + k

    def submit(self) -> None:
        theme = App.get_running_app().theme
        if not self.phrases and not self.extra.text.strip():
            self.msg.text = "请至少选择一项问题描述。"
            self.msg.color = theme.accent
            return
        self.msg.text = "正在提交……"
        self.msg.color = theme.fg
        ctl = self.controller
        args = (self.category, list(self.phrases), self.extra.text, self.suggestion)
        ctl.background(lambda: ctl.mode.report_fault(*args), self._done)

    def _done(self, rec: Any) -> None:
        theme = App.get_running_app().theme
        if isinstance(rec, Exception):
            self.msg.text = getattr(rec, "message_zh", None) or "提交出错，请重试。"
            self.msg.color = theme.accent
            return
        self.last_record = rec
        if rec.state == "sent":
            self.msg.text = (f"已提交，问题编号 {rec.fault_no}，由{rec.routed_to_zh}处理"
                             + (f"，{rec.reply_due_zh}" if rec.reply_due_zh else "") + "。")
            self.msg.color = theme.ok
        else:
            self.msg.text = f"服务平台暂时连不上，问题已保存在本机台账（{rec.local_id}），网络恢复后在“问题台账”中点“刷新”发送。"
            self.msg.color = theme.accent


class TechFaultListScreen(TechPage):
    feature = "fault_report"

    def fill(self, refresh: bool = True, **_params: Any) -> None:
        self.title = "问题台账与回复"
        self.clear()
        self.ids.actions.add_widget(button("刷新回复", self.refresh))
        self.ids.actions.add_widget(button("反映新问题", lambda: self.controller.open("tech_fault")))
        self.msg = label("")
        self.ids.body.add_widget(self.msg)
        self.list_box = BoxLayout(orientation="vertical", size_hint_y=None, spacing=16)
        self.list_box.bind(minimum_height=self.list_box.setter("height"))
        self.ids.body.add_widget(self.list_box)
        self.render()
        if refresh:
            self.refresh()

    def render(self) -> None:
        theme = App.get_running_app().theme
        self.list_box.clear_widgets()
        records = list(reversed(self.controller.mode.ledger.records()))
        if not records:
            self.list_box.add_widget(label("台账中还没有问题。"))
            return
        today = clock.today()
        for rec in records:
            head = f"{rec.fault_no or rec.local_id}　{rec.category_zh}　{rec.state_zh}"
            if rec.routed_to_zh:
                head += f"　→ {rec.routed_to_zh}"
            self.list_box.add_widget(label(head, title=True))
            lines = [f"问题：{rec.summary_zh}", f"提交时间：{rec.created_at[:16].replace('T', ' ')}"]
            if rec.reply_due_zh:
                lines.append(f"反馈时限：{rec.reply_due_zh}" + ("（已超期）" if rec.overdue(today) else ""))
            for rp in rec.replies:
                lines.append(f"回复（{rp.by_zh}，{rp.at[:16].replace('T', ' ')}）：{rp.text_zh}")
            self.list_box.add_widget(label("\n".join(lines), color=theme.accent if rec.overdue(today) else None))

    def refresh(self) -> None:
        self.msg.text = "正在从服务平台获取回复……"
        self.controller.background(self.controller.mode.refresh_faults, self._refreshed)

    def _refreshed(self, result: Any) -> None:
        theme = App.get_running_app().theme
        if isinstance(result, Exception):
            self.msg.text = "服务平台暂时连不上，显示的是本机台账。"
            self.msg.color = theme.accent
        else:
            sent, new = result
            self.msg.text = f"已更新：新发送 {sent} 条，新回复 {new} 条。"
            self.msg.color = theme.ok
        self.render()


SCREENS = [
    (TechLoginScreen, "tech_login"), (TechHomeScreen, "tech_home"), (TechSelftestScreen, "tech_selftest"),
    (TechLogScreen, "tech_log"), (TechOutboxScreen, "tech_outbox"), (TechReceiptsScreen, "tech_receipts"),
    (TechInfoScreen, "tech_info"), (TechSettingsScreen, "tech_settings"), (TechFaultScreen, "tech_fault"),
    (TechFaultListScreen, "tech_faults"),
]


def register(app: Any, sm: Any) -> TechController:
    """Install the log buffer and the controller; the kv rules and technician screens
    are built on first use when the screen manager can (kiosk.screens.lazy)."""
    logbuffer.install()
    ctl = TechController(app, sm)
    app.plugins_tech = ctl

    def build() -> None:
        Builder.load_file(str(KV_FILE))
        for cls, name in SCREENS:
            screen = cls(name=name)
            screen.controller = ctl
            if isinstance(screen, TechBase) and not isinstance(screen, TechPage):
                screen.ids.nav.controller = ctl
            sm.add_widget(screen)

    if hasattr(sm, "add_lazy"):
        sm.add_lazy([name for _cls, name in SCREENS], build)
    else:
        build()
    app.bind(on_stop=lambda *_a: ctl.mode.close())
    return ctl
