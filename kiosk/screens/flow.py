"""One generic screen that renders any step of any service flow.

The flow engine (kiosk.flows.engine) decides what happens; this screen shows
its Step: a form with the right keyboard per field, the confirmation of
exactly what will be sent, a result table with paging and filters, the
counter checklist, a refusal in the guide's words, or an error with retry.
Every engine call runs on a worker thread behind "正在查询，请稍候".
"""

from __future__ import annotations

import logging
import threading
import uuid

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.gridlayout import GridLayout
from kivy.uix.modalview import ModalView

from kiosk.flows.engine import ServiceFlow, Site, mode_of
from kiosk.screens.keyboards import open_keyboard
from kiosk.screens.widgets import KButton, KioskScreen, KKey, choice_columns

log = logging.getLogger("kiosk.flow_screen")

# Main action per step kind: (button text, engine method)
MAIN_ACTION = {
    "form": ("下一步", "next"),
    "photo": ("下一步", "next"),
    "confirm": ("确认提交", "confirm"),
    "result": ("完成", "finish"),
    "counter": ("完成", "finish"),
    "refused": ("完成", "finish"),
    "error": ("完成", "finish"),
}

Builder.load_string("""
<FlowScreen>:
    BoxLayout:
        orientation: "vertical"
        HeaderBar:
            id: header
            title: root.title
            who: app.who_text
        ScrollView:
            id: scroll
            do_scroll_x: False
            bar_width: 16
            BoxLayout:
                id: body
                orientation: "vertical"
                size_hint_y: None
                height: self.minimum_height
                padding: [40, 20]
                spacing: 14
        BoxLayout:
            id: actions
            size_hint_y: None
            height: max(110, app.theme.button * 2.6)
            padding: [24, 8]
            spacing: 20

<BusyPopup>:
    auto_dismiss: False
    size_hint: 0.6, 0.3
    background: ""
    background_color: app.theme.card_bg
    overlay_color: (0, 0, 0, 0.4)
    Label:
        text: root.text
        font_size: app.theme.title
        color: app.theme.fg

<FieldBox@Button>:
    font_size: app.theme.title
    color: app.theme.fg
    background_normal: ""
    background_down: ""
    background_color: (0, 0, 0, 0)
    size_hint_y: None
    height: max(96, self.font_size * 2)
    text_size: self.width - 32, None
    halign: "left"
    valign: "middle"
    canvas.before:
        Color:
            rgba: app.theme.fg
        Line:
            rectangle: self.x + 1, self.y + 1, self.width - 2, self.height - 2
            width: 2
        Color:
            rgba: app.theme.card_bg
        Rectangle:
            pos: self.x + 3, self.y + 3
            size: self.width - 6, self.height - 6
""")


class BusyPopup(ModalView):
    text = StringProperty("正在查询，请稍候")


class FlowScreen(KioskScreen):
    title = StringProperty("")
    step = ObjectProperty(None, allownone=True)

    flow = None

    def show(self, **_params) -> None:
        pass  # the flow renders itself through render(); navigation params are not used

    def wipe(self) -> None:
        """Forget the flow and everything it showed (logout, card removal, idle timeout)."""
        self.flow = None
        self.step = None
        self.title = ""
        self.ids.body.clear_widgets()
        self.ids.actions.clear_widgets()

    # -- running the engine off the UI thread ------------------------------------
    def run(self, action, busy: str = "正在查询，请稍候") -> None:
        app = App.get_running_app()
        popup = BusyPopup(text=busy)
        popup.open(animation=False)
        app.voice.say("please_wait")
        flow = self.flow

        def work() -> None:
            try:
                step = action()
            except Exception:  # a programming error: log it, never a traceback on screen
                log.exception("flow %s crashed", flow.item.no)
                step = None
            Clock.schedule_once(lambda _dt: self._arrived(popup, flow, step), 0)

        threading.Thread(target=work, name="flow-step", daemon=True).start()

    def _arrived(self, popup, flow, step) -> None:
        popup.dismiss(animation=False)
        app = App.get_running_app()
        app.idle.touch()
        if flow is not self.flow:  # the session ended while the call ran
            return
        if step is None:
            self.render_message("操作没有成功，请重试或联系工作人员。")
            return
        self.render(step)

    def begin(self, flow: ServiceFlow) -> None:
        self.flow = flow
        self.step = None
        self.title = f"{flow.item.no}. {flow.item.name}"
        self.ids.body.clear_widgets()
        self.ids.actions.clear_widgets()
        self.run(flow.start)

    # -- rendering ---------------------------------------------------------------------
    def render_message(self, text: str) -> None:
        self.ids.body.clear_widgets()
        self.ids.body.add_widget(Factory.KLabel(text=text))

    def render(self, step) -> None:
        app = App.get_running_app()
        self.step = step
        self.title = step.title_zh or self.title
        body = self.ids.body
        body.clear_widgets()
        if step.kind == "photo":
            app.go("photo", flow_screen=self)
            return
        if step.message_zh:
            msg = Factory.KTitle(text=step.message_zh)
            msg.color = app.theme.accent if step.kind in ("refused", "error") else app.theme.fg
            body.add_widget(msg)
        if step.kind == "form":
            for fs in step.fields:
                self._field_row(fs, body)
        if step.filters:
            body.add_widget(Factory.KTitle(text="筛选"))
            for fs in step.filters:
                self._field_row(fs, body, filter_mode=True)
        for label, value in step.summary:
            body.add_widget(Factory.KLabel(text=f"{label}：{value}"))
        if step.table is not None and step.table.rows:
            body.add_widget(self._table(step.table))
        for note in step.notes_zh:
            body.add_widget(Factory.KLabel(text=note))
        for no in step.related:
            item = app.catalog.by_no(no)
            b = KButton(text=f"去办理：{item.no}. {item.name}")
            b.bind(on_release=lambda _b, n=no: app.start_service(n))
            body.add_widget(b)
        if step.kind == "done":
            body.add_widget(Factory.KTitle(text="办理完成。" if step.outcome != "cancelled" else "已结束。"))
        self._actions(step)
        self.ids.scroll.scroll_y = 1
        if step.kind == "confirm":
            app.voice.say("confirm")
        elif step.kind == "refused":
            app.voice.say("error_retry")

    def _field_row(self, fs, body, filter_mode: bool = False) -> None:
        body.add_widget(Factory.KTitle(text=fs.label + ("" if fs.required else "（选填）")))
        if fs.keyboard == "choice":
            width = body.width - body.padding[0] - body.padding[2]
            cols = choice_columns([c + "  " for c in fs.choices], App.get_running_app().theme.button, width)
            row = GridLayout(cols=cols, size_hint_y=None, spacing=8)
            row.bind(minimum_height=row.setter("height"))
            for choice in fs.choices:
                b = KKey(text=("✔ " if choice == fs.value else "") + choice, size_hint_y=None,
                         height=App.get_running_app().theme.px(96))
                b.bind(on_release=lambda _b, c=choice, f=fs: self._set_field(f, c, filter_mode))
                row.add_widget(b)
            body.add_widget(row)
        else:
            box = Factory.FieldBox(text=fs.value or "点此输入")
            box.field_name = fs.name
            box.bind(on_release=lambda _b, f=fs: open_keyboard(
                f.keyboard, f.label, f.value, lambda v, f=f: self._set_field(f, v, filter_mode), f.hint_zh))
            body.add_widget(box)
        if fs.error_zh:
            err = Factory.KLabel(text=fs.error_zh)
            err.color = App.get_running_app().theme.accent
            body.add_widget(err)
        elif fs.hint_zh and not filter_mode:
            body.add_widget(Factory.KLabel(text=fs.hint_zh))

    def _set_field(self, fs, value: str, filter_mode: bool) -> None:
        if filter_mode:
            fs.value = value
            return  # applied with the 筛选 button
        self.flow.set_field(fs.name, value)  # validates as typed; no I/O
        self.render(self.step)

    def _table(self, table) -> GridLayout:
        from kiosk.flows.engine import print_columns

        app = App.get_running_app()
        cols = print_columns(table.columns)
        grid = GridLayout(cols=len(cols), size_hint_y=None, spacing=[12, 6])
        grid.bind(minimum_height=grid.setter("height"))
        for c in cols:
            grid.add_widget(Factory.KTitle(text=c.label_zh))
        for row in table.rows:
            for c in cols:
                cell = Factory.KLabel(text=str(row.get(c.key, "")))
                if c.key in ("failure_reason", "reason", "status") and row.get(c.key) not in ("", None, "正常", "已发放"):
                    cell.color = app.theme.accent
                grid.add_widget(cell)
        return grid

    def _actions(self, step) -> None:
        app = App.get_running_app()
        bar = self.ids.actions
        bar.clear_widgets()

        def add(text: str, callback, danger: bool = False) -> KButton:
            b = KButton(text=text, danger=danger)
            b.bind(on_release=lambda _b: callback())
            bar.add_widget(b)
            return b

        if step.can_back:
            add("上一步", lambda: self.run(self.flow.back))
        if step.can_retry:
            add("重试", lambda: self.run(self.flow.retry))
        if step.table is not None and step.table.pages > 1:
            t = step.table
            if t.page > 1:
                add("上一页", lambda: self.run(lambda: self.flow.page(t.page - 1)))
            if t.page < t.pages:
                add("下一页", lambda: self.run(lambda: self.flow.page(t.page + 1)))
        if step.filters:
            add("筛选", lambda: self.run(lambda: self.flow.filter(**{f.name: f.value for f in step.filters})))
        if step.can_print and step.receipt is not None:
            add("打印回执", self.print)
        main = MAIN_ACTION.get(step.kind)
        if main is not None:
            text, method = main
            busy = "正在提交，请稍候" if method == "confirm" else "正在查询，请稍候"
            add(text, lambda m=method, b=busy: self.run(getattr(self.flow, m), b))
        add("回到首页", app.go_home)  # home on every step; nothing unconfirmed is ever sent

    def print(self):
        from kiosk.screens.printing import print_receipt

        step = self.step
        key = f"{self.flow.item.no}-{step.reference or uuid.uuid4().hex[:12]}-{step.kind}"
        return print_receipt(step.receipt, key)


def start_service(app, item_no: int) -> None:
    """Start the flow of ``item_no`` for the resident at the kiosk."""
    person = app.sessions.current.person
    if person is None:
        app.go_attract()
        app.sm.get_screen("attract").message = "请先插入身份证或社保卡，或出示电子社保卡二维码。"
        app.voice.say("insert_card")
        return
    item = app.catalog.by_no(item_no)
    flow = ServiceFlow(item, person, app.backend.platform, app.backend.outbox, site=Site.from_config(app.cfg))
    app.sessions.current.flow_state["flow"] = flow
    screen = app.sm.get_screen("flow")
    app.go("flow")
    screen.begin(flow)


def start_text(item) -> str:
    return "打印材料清单（一次性告知）" if mode_of(item) == "counter" else "开始办理"


def register(app, sm):
    from kiosk.flows.pinyin_ime import warm_up

    sm.add_widget(FlowScreen(name="flow"))
    # The keypad's dictionary loads on a worker thread, after the attract screen is drawn
    # (started earlier, its imports hold the GIL while the first frame waits).
    Clock.schedule_once(lambda _dt: threading.Thread(target=warm_up, name="pinyin-index", daemon=True).start(), 2)
    return {"start_service": start_service, "start_text": start_text}
