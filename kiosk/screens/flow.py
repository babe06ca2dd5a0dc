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
from collections.abc import Callable

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.modalview import ModalView

from kiosk.core.errors import PlatformError
from kiosk.flows.engine import ServiceFlow
from kiosk.flows.site import Site
from kiosk.flows.step import Step, mode_of
from kiosk.screens.keyboards import open_keyboard
from kiosk.screens.widgets import CardPopup, KButton, KioskScreen, choice_columns

log = logging.getLogger("kiosk.flow_screen")

# Main action per step kind: (button text, engine method)
MAIN_ACTION = {
    "form": ("下一步", "next"),
    "photo": ("下一步", "next"),
    "confirm": ("确认提交", "confirm"),
    "result": ("完成", "finish"),
    "counter": ("完成", "finish"),
    # Not "完成": a refused or failed visit is not finished well; the next screen says what to do.
    "refused": ("我知道了", "finish"),
    "error": ("我知道了", "finish"),
}
#: A chosen option: a check mark the CJK font has (U+2714 is missing from Noto Sans CJK SC and
#: showed as an empty box), plus a white face with a thick green border, never colour alone.
CHOSEN_MARK = "✓ "

Builder.load_string("""
<FlowScreen>:
    BoxLayout:
        orientation: "vertical"
        HeaderBar:
            id: header
            title: root.title
            who: app.who_text
        # The form's error summary: fixed above the fields, so it stays in view while the
        # form scrolls to the first wrong field.
        Label:
            id: banner
            text: root.banner
            font_size: app.theme.title
            bold: True
            color: app.theme.accent
            text_size: self.width - 80, None
            size_hint_y: None
            height: self.texture_size[1] + 24 if self.text else 0
            opacity: 1 if self.text else 0
            canvas.before:
                Color:
                    rgba: app.theme.card_bg if self.text else (0, 0, 0, 0)
                Rectangle:
                    pos: self.pos
                    size: self.size
        KScrollView:
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

<ChoiceKey@Button>:
    selected: False
    # The colour the canvas below paints behind the text, for the legibility check.
    bg_rgba: app.theme.card_bg if self.selected else app.theme.button_bg
    font_size: app.theme.button
    color: app.theme.ok if self.selected else app.theme.button_fg
    bold: self.selected
    background_normal: ""
    background_down: ""
    background_color: (0, 0, 0, 0)
    size_hint_y: None
    height: max(96, self.font_size * 2.2, self.texture_size[1] + 24)
    text_size: self.width - 20, None
    halign: "center"
    valign: "middle"
    canvas.before:
        Color:
            rgba: app.theme.card_bg if self.selected else app.theme.button_bg
        RoundedRectangle:
            pos: self.x + 3, self.y + 3
            size: self.width - 6, self.height - 6
            radius: [10]
        Color:
            rgba: app.theme.ok if self.selected else (0, 0, 0, 0)
        Line:
            rounded_rectangle: self.x + 5, self.y + 5, self.width - 10, self.height - 10, 10
            width: 4
        Color:
            rgba: (0, 0, 0, 0.3) if self.state == "down" else (0, 0, 0, 0)
        RoundedRectangle:
            pos: self.x + 3, self.y + 3
            size: self.width - 6, self.height - 6
            radius: [10]

<LeavePopup>:
    BoxLayout:
        orientation: "vertical"
        padding: 32
        spacing: 24
        Label:
            text: "您填写的内容还没有提交。\\n离开后，这些内容不会保存。"
            font_size: app.theme.title
            color: app.theme.fg
            halign: "center"
            valign: "middle"
            text_size: self.width, None
        BoxLayout:
            size_hint_y: None
            height: max(110, app.theme.button * 2.6)
            spacing: 24
            KButton:
                id: stay
                text: "继续填写"
                on_release: root.dismiss(animation=False)
            KButton:
                id: leave
                text: "不保存，离开"
                danger: True
                on_release: root.leave()

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


class LeavePopup(CardPopup):
    """Asked before a half-filled form is dropped (back out of the flow, home, logout)."""

    def __init__(self, on_leave, **kw) -> None:
        super().__init__(**kw)
        self.on_leave = on_leave

    def leave(self) -> None:
        self.dismiss(animation=False)
        self.on_leave()


class FlowScreen(KioskScreen):
    title = StringProperty("")
    banner = StringProperty("")
    step = ObjectProperty(None, allownone=True)

    flow: ServiceFlow | None = None
    #: field values when the form was first shown (prefilled phone): leaving asks only if they changed
    _form_start: dict | None = None

    def show(self, **_params) -> None:
        pass  # the flow renders itself through render(); navigation params are not used

    def wipe(self) -> None:
        """Forget the flow and everything it showed (logout, card removal, idle timeout)."""
        self.flow = None
        self.step = None
        self._form_start = None
        self.banner = ""
        self.title = ""
        self.ids.body.clear_widgets()
        self.ids.actions.clear_widgets()

    # -- running the engine off the UI thread ------------------------------------
    def act(self, call: Callable[[ServiceFlow], Step], busy: str = "正在查询，请稍候") -> None:
        """Run ``call`` on the current flow off the UI thread; nothing if the visit has ended
        (a button tapped while logout or the idle timeout was clearing the screen)."""
        flow = self.flow
        if flow is None:
            log.info("flow action ignored: the visit has ended")
            return
        self.run(lambda: call(flow), busy)

    def run(self, action: Callable[[], Step], busy: str = "正在查询，请稍候") -> None:
        app = App.get_running_app()
        popup = BusyPopup(text=busy)
        popup.open(animation=False)
        app.voice.say("please_wait")
        flow = self.flow

        def work() -> None:
            step: Step | None
            try:
                step = action()
            except Exception:  # a programming error: log it, never a traceback on screen
                log.exception("flow %s crashed", flow.item.no if flow is not None else "-")
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
        self._form_start = None
        self.banner = ""
        self.title = f"{flow.item.no}. {flow.item.name}"
        self.ids.body.clear_widgets()
        self.ids.actions.clear_widgets()
        self.run(flow.start)

    # -- rendering ---------------------------------------------------------------------
    def render_message(self, text: str) -> None:
        self.ids.body.clear_widgets()
        self.ids.body.add_widget(Factory.KLabel(text=text))

    def render(self, step, keep_scroll: bool = False) -> None:
        app = App.get_running_app()
        offset = self._scroll_offset() if keep_scroll else None
        self.step = step
        self.title = step.title_zh or self.title
        body = self.ids.body
        body.clear_widgets()
        self._field_widgets: dict = {}
        if step.kind == "photo":
            app.go("photo", flow_screen=self)
            return
        if step.kind == "form" and self._form_start is None:
            self._form_start = {f.name: f.value for f in step.fields}
        has_errors = any(f.error_zh for f in step.fields)
        self.banner = step.message_zh if step.kind == "form" and has_errors else ""
        if step.message_zh and not self.banner:
            msg = Factory.KTitle(text=step.message_zh)
            failed = step.kind in ("refused", "error") or (step.kind == "done" and step.outcome in
                                                           ("refused", "failed", "error"))
            msg.color = app.theme.accent if failed else app.theme.fg
            body.add_widget(msg)
        if step.kind == "form":
            for fs in step.fields:
                self._field_row(fs, body)
        if step.filters:
            body.add_widget(Factory.KTitle(text="筛选"))
            for fs in step.filters:
                self._field_row(fs, body, filter_mode=True)
            apply = KButton(text="按条件筛选")
            apply.bind(on_release=lambda _b: self.act(
                lambda flow: flow.filter(**{f.name: f.value for f in step.filters})))
            body.add_widget(apply)
        for label, value in step.summary:
            body.add_widget(Factory.KLabel(text=f"{label}：{value}"))
        if step.table is not None and step.table.rows:
            body.add_widget(self._table(step.table))
            if step.table.pages > 1:
                body.add_widget(self._pager(step.table))
        for note in step.notes_zh:
            body.add_widget(Factory.KLabel(text=note))
        for no in step.related:
            item = app.catalog.by_no(no)
            b = KButton(text=f"去办理：{item.no}. {item.name}")
            b.bind(on_release=lambda _b, n=no: app.start_service(n))
            body.add_widget(b)
        self._actions(step)
        if offset is not None:
            # Same form after a keypad entry or a choice: stay where the resident was.
            # (Again once the rebuilt body has its final height, one layout pass later.)
            self._restore_offset(offset)
            Clock.schedule_once(lambda _dt: self._restore_offset(offset), 0)
            Clock.schedule_once(lambda _dt: self._restore_offset(offset), 0.1)
        elif step.kind == "form" and has_errors:
            first = next(f.name for f in step.fields if f.error_zh)
            Clock.schedule_once(lambda _dt: self._scroll_to_field(first), 0)
        else:
            self.ids.scroll.scroll_y = 1
        if step.kind == "confirm":
            app.voice.say("confirm")
        elif step.kind == "refused":
            app.voice.say("error_retry")

    # -- scroll position ------------------------------------------------------------------
    def _scroll_offset(self) -> float:
        """Pixels scrolled down from the top of the body."""
        sv = self.ids.scroll
        return (1 - sv.scroll_y) * max(0, self.ids.body.height - sv.height)

    def _restore_offset(self, offset: float) -> None:
        sv = self.ids.scroll
        room = self.ids.body.height - sv.height
        sv.scroll_y = 1 if room <= 0 else max(0.0, min(1.0, 1 - offset / room))

    def _scroll_to_field(self, name: str) -> None:
        """Bring the first wrong field (its title, input and red note) into view."""
        title = self._field_widgets.get(name)
        if title is not None:
            self.ids.scroll.scroll_to(title, padding=20, animate=False)

    # -- fields -----------------------------------------------------------------------------
    def _choice_row(self, options, chosen: str, on_pick) -> GridLayout:
        # as many columns as fit every caption on one line (long choices get one per row)
        body = self.ids.body
        width = body.width - body.padding[0] - body.padding[2]
        cols = choice_columns([CHOSEN_MARK + o for o in options], App.get_running_app().theme.button, width)
        row = GridLayout(cols=cols, size_hint_y=None, spacing=8)
        row.bind(minimum_height=row.setter("height"))
        for option in options:
            b = Factory.ChoiceKey(text=(CHOSEN_MARK if option == chosen else "") + option)
            b.selected = option == chosen  # a kv-declared property: not a constructor argument
            b.bind(on_release=lambda _b, o=option: on_pick(o))
            row.add_widget(b)
        return row

    def _field_row(self, fs, body, filter_mode: bool = False) -> None:
        title = Factory.KTitle(text=fs.label + ("" if fs.required else "（选填）"))
        self._field_widgets[fs.name] = title
        body.add_widget(title)
        if fs.keyboard == "choice":
            body.add_widget(self._choice_row(fs.choices, fs.value,
                                             lambda c, f=fs: self._set_field(f, c, filter_mode)))
        else:
            suggestions = self._suggestions(fs)
            if suggestions:  # one tap for the common answers; the keypad for anything else
                body.add_widget(self._choice_row(suggestions, fs.value,
                                                 lambda c, f=fs: self._set_field(f, c, filter_mode)))
            shown = fs.value if fs.value and fs.value not in suggestions else ""
            box = Factory.FieldBox(text=shown or ("其他，点此输入" if suggestions else "点此输入"))
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

    def _suggestions(self, fs) -> tuple[str, ...]:
        if self.flow is None:
            return ()
        try:
            return self.flow.item.field(fs.name).suggestions
        except KeyError:  # a browse filter, not a form field
            return ()

    def _set_field(self, fs, value: str, filter_mode: bool) -> None:
        if filter_mode:
            fs.value = value
            self.render(self.step, keep_scroll=True)  # the chosen filter shows its mark
            return  # applied with the 按条件筛选 button
        if self.flow is None:  # the visit ended while the keyboard was open
            return
        self.flow.set_field(fs.name, value)  # validates as typed; no I/O
        self.render(self.step, keep_scroll=True)

    def form_is_dirty(self) -> bool:
        """The resident typed or chose something on this form that is not sent yet."""
        step = self.step
        if step is None or step.kind != "form" or self._form_start is None:
            return False
        return any(f.value != self._form_start.get(f.name, "") for f in step.fields)

    def leave(self, then) -> None:
        """Run ``then`` (back, home, logout), asking first when a half-filled form would be lost."""
        if self.form_is_dirty():
            LeavePopup(on_leave=then).open(animation=False)
        else:
            then()

    def _table(self, table) -> GridLayout:
        from kiosk.flows.step import cell_zh, display_label, print_columns

        app = App.get_running_app()
        cols = print_columns(table.columns)
        grid = GridLayout(cols=len(cols), size_hint_y=None, spacing=[12, 6])
        grid.bind(minimum_height=grid.setter("height"))
        for c in cols:
            grid.add_widget(Factory.KTitle(text=display_label(c)))
        for row in table.rows:
            for c in cols:
                cell = Factory.KLabel(text=cell_zh(c, row.get(c.key, "")))
                if c.key in ("failure_reason", "reason", "status") and row.get(c.key) not in ("", None, "正常", "已发放"):
                    cell.color = app.theme.accent
                grid.add_widget(cell)
        return grid

    def _pager(self, table) -> BoxLayout:
        """上一页 / 第 n/m 页 / 下一页 in fixed places: a key that does not apply is greyed, not removed,
        so the other never moves under the resident's finger."""
        app = App.get_running_app()
        row = BoxLayout(size_hint_y=None, height=max(96, app.theme.button * 2.4), spacing=16)
        prev_b = KButton(text="上一页", disabled=table.page <= 1, opacity=0.35 if table.page <= 1 else 1)
        prev_b.bind(on_release=lambda _b: self.act(lambda flow: flow.page(table.page - 1)))
        next_b = KButton(text="下一页", disabled=table.page >= table.pages,
                         opacity=0.35 if table.page >= table.pages else 1)
        next_b.bind(on_release=lambda _b: self.act(lambda flow: flow.page(table.page + 1)))
        where = Factory.KLabel(text=f"第{table.page}/{table.pages}页，共{table.total}条", halign="center",
                               valign="middle")
        where.size_hint_y = 1
        row.add_widget(prev_b)
        row.add_widget(where)
        row.add_widget(next_b)
        return row

    def _actions(self, step) -> None:
        app = App.get_running_app()
        bar = self.ids.actions
        bar.clear_widgets()
        buttons: list[tuple[str, object, bool]] = []

        def add(text: str, callback, danger: bool = False) -> None:
            buttons.append((text, callback, danger))

        # 返回上一步 on every step but the last: a step back inside the flow where that is safe,
        # else back to the screen before the flow (the guide), asking first if a form is half-filled.
        if step.kind != "done":
            if step.can_back:
                add("返回上一步", lambda: self.act(ServiceFlow.back))
            else:
                add("返回上一步", lambda: self.leave(app.go_back))
        if step.can_retry:
            add("重试", lambda: self.act(ServiceFlow.retry))
        if step.can_print and step.receipt is not None:
            add("打印回执", self.print)
        main = MAIN_ACTION.get(step.kind)
        if main is not None:
            text, method = main
            busy = "正在提交，请稍候" if method == "confirm" else "正在查询，请稍候"
            add(text, lambda m=method, b=busy: self.act(lambda flow: getattr(flow, m)(), b))
        # Home where there is room (nothing unconfirmed is ever sent); 完成 leads to it otherwise.
        if step.kind == "done" or len(buttons) < 3:
            add("回到首页", lambda: self.leave(app.go_home))
        if app.logged_in:
            add("退出", lambda: self.leave(lambda: app.logout("resident pressed logout")), True)
        for text, callback, danger in buttons:
            b = KButton(text=text, danger=danger)
            b.bind(on_release=lambda _b, cb=callback: cb())
            bar.add_widget(b)

    def print(self) -> None:
        """Print the step's receipt; an enquiry of several pages prints every record, which are
        fetched again off the UI thread (the screen holds one page)."""
        from kiosk.screens.printing import print_receipt

        step, flow = self.step, self.flow
        if step is None or flow is None or step.receipt is None:  # the visit ended as 打印回执 was tapped
            return
        page = step.receipt
        key = f"{flow.item.no}-{step.reference or uuid.uuid4().hex[:12]}-{step.kind}"
        res = flow.result
        if res is None or res.pages <= 1 or flow.mode != "enquiry":
            print_receipt(page, key)
            return
        popup = BusyPopup(text="正在准备回执，请稍候")
        popup.open(animation=False)

        def work() -> None:
            try:
                receipt = flow.receipt_all() or page
            except PlatformError as exc:  # the platform went away: print the page on screen rather than nothing
                log.warning("item %s: all records for the receipt not fetched, printing the page shown: %s",
                            flow.item.no, exc)
                receipt = page
            except Exception:  # noqa: BLE001 - a bug: still print what the resident saw
                log.exception("item %s: all records for the receipt", flow.item.no)
                receipt = page

            def done(_dt) -> None:
                popup.dismiss(animation=False)
                if flow is self.flow:  # not after the session ended
                    print_receipt(receipt, key + "-all")

            Clock.schedule_once(done, 0)

        threading.Thread(target=work, name="receipt-all", daemon=True).start()


def start_service(app, item_no: int) -> None:
    """Start the flow of ``item_no`` for the resident at the kiosk."""
    person = app.sessions.current.person
    if person is None:
        item = app.catalog.by_no(item_no)
        app.remember_item(item_no)
        app.go_attract()
        app.sm.get_screen("attract").message = f"请先放身份证或插社保卡，或出示电子社保卡二维码，然后为您办理：{item.name}"
        app.voice.say("insert_card")
        return
    item = app.catalog.by_no(item_no)
    flow = ServiceFlow(item, person, app.backend.platform, app.backend.outbox, site=Site.from_settings(app.cfg.settings.site))
    app.sessions.current.flow_state["flow"] = flow
    screen = app.sm.get_screen("flow")
    app.go("flow")
    screen.begin(flow)


def start_text(item) -> str:
    return "打印材料清单（一次性告知）" if mode_of(item) == "counter" else "开始办理"


def register(app, sm):
    # The pinyin keypad's index is built when a keypad first opens (kiosk.screens.keyboards).
    sm.add_widget(FlowScreen(name="flow"))
    return {"start_service": start_service, "start_text": start_text}
