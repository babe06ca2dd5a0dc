"""The layout audit on a live window: measure what is on screen, judge it with
kiosk.screens.layout_rules.

``audit(app, screen)`` walks the top-most layer (an open popup, else the
current screen) into Elements: every visible label (its text, the room its
widget gives, the room the text needs at the widget's wrap width, the font
file Kivy actually draws it with) and every touch target. ``tour(app, sink)``
is a scenario script (kiosk.runner) that opens every screen of both modes
with long, realistic data and hands each screen's findings to ``sink``;
``kiosk snapshot --audit`` prints them as JSON lines.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Callable, Iterable

from kivy.core.text import FONT_BOLD, FONT_ITALIC, FONT_REGULAR, LabelBase
from kivy.core.window import Window
from kivy.resources import resource_find
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.scrollview import ScrollView
from kivy.uix.textinput import TextInput

from kiosk.screens.layout_rules import Element, Finding, Rect, check
from kiosk.screens.line_breaks import KioskCoreLabel as CoreLabel
from kiosk.screens.line_breaks import laid_out
from kiosk.screens.legibility import ancestors, walk

# Long but realistic data (issue 17): a 15-character name, a 35-character address.
LONG_NAME = "欧阳慕容司马上官诸葛东方皇甫令狐"[:15]
LONG_ADDRESS = "山西省吕梁市临县碛口镇西湾村委会东南沟自然村第三居民小组二十八号院"[:35]


def _rect(widget) -> Rect:
    x, y = widget.to_window(*widget.pos)
    return Rect(x, y, x + widget.width, y + widget.height)


def font_file(widget) -> str:
    """The file Kivy draws ``widget``'s text with (registered family or a path)."""
    name = widget.font_name
    fonts = LabelBase._fonts.get(name)
    if fonts:
        style = (FONT_BOLD if getattr(widget, "bold", False) else FONT_REGULAR) | (
            FONT_ITALIC if getattr(widget, "italic", False) else 0)
        return fonts[style]
    return resource_find(name) or resource_find(f"{name}.ttf") or ""


def text_needed(label: Label) -> tuple[float, float]:
    """Size the label's text needs at its wrap width (text_size width), whatever its height allows."""
    wrap = label.text_size[0] if label.text_size and label.text_size[0] else None
    core = CoreLabel(text=label.text, font_size=label.font_size, font_name=label.font_name, bold=label.bold,
                     italic=label.italic, text_size=(wrap, None), padding=label.padding, halign=label.halign,
                     line_height=label.line_height, strip=label.strip, max_lines=label.max_lines,
                     markup=False)
    if label.markup:
        from kivy.core.text.markup import MarkupLabel

        core = MarkupLabel(text=label.text, font_size=label.font_size, font_name=label.font_name, bold=label.bold,
                           text_size=(wrap, None), padding=label.padding, halign=label.halign)
    core.resolve_font_name()
    w, h = core.render()
    return float(w), float(h)


def _areas(widget) -> tuple[Rect, Rect | None]:
    """(clip, view): where the widget may lie without being cut, and what of it is visible now.

    A scroll view lets content run past it in the direction it scrolls (that
    is reachable), never in the other one.
    """
    win = Rect(0.0, 0.0, float(Window.width), float(Window.height))
    clip, view = win, _rect(widget).intersect(win)
    for a in list(ancestors(widget))[1:]:
        if isinstance(a, ScrollView):
            port = _rect(a)
            inf = float("inf")
            x0, x1 = (-inf, inf) if a.do_scroll_x else (max(clip.x0, port.x0), min(clip.x1, port.x1))
            y0, y1 = (-inf, inf) if a.do_scroll_y else (max(clip.y0, port.y0), min(clip.y1, port.y1))
            clip = Rect(x0, y0, x1, y1)
            view = view.intersect(port) if view is not None else None
    return clip, view


def _hidden(widget) -> bool:
    return widget.width <= 0 or widget.height <= 0 or any(getattr(a, "opacity", 1) == 0 for a in ancestors(widget))


def _name(widget) -> str:
    ids = {}
    for a in ancestors(widget):
        for key, value in getattr(a, "ids", {}).items():
            if value is widget:
                ids = {"id": key}
                break
        if ids:
            break
    return type(widget).__name__ + (f"#{ids['id']}" if ids else "")


def elements(root) -> list[Element]:
    out = []
    for w in walk(root):
        is_label = isinstance(w, Label) and bool(w.text.strip())
        touch = isinstance(w, (ButtonBehavior, TextInput))
        if not (is_label or touch) or _hidden(w):
            continue
        clip, view = _areas(w)
        rect = _rect(w)
        e = Element(name=_name(w), rect=rect, clip=clip, view=view, touch=touch, uid=id(w),
                    lineage=frozenset(id(a) for a in ancestors(w)))
        if is_label:
            tw, th = w.texture_size
            cx, cy = rect.x0 + w.width / 2, rect.y0 + w.height / 2
            e.text = w.text
            e.ink = Rect(cx - tw / 2, cy - th / 2, cx + tw / 2, cy + th / 2)
            e.text_needed = text_needed(w)
            e.text_room = (float(w.width), float(w.height))
            e.font_file = font_file(w)
            if w._label is not None and not w.markup:
                e.lines = tuple(laid_out(w._label))
        elif isinstance(w, TextInput):
            e.text = w.text or w.hint_text
            e.font_file = font_file(w)
        out.append(e)
    return out


def top_layer(app):
    """What a resident can touch now: the top-most open popup, else the current screen."""
    popups = [w for w in Window.children if isinstance(w, ModalView)]
    return popups[0] if popups else app.sm.current_screen


def audit(app, screen: str) -> list[Finding]:
    shown = elements(top_layer(app))
    badge = getattr(app, "demo_badge", None)  # drawn above every screen: it must cover no text or button
    if badge is not None:
        shown += elements(badge)
    found = check(shown, screen=screen, px_per_mm=app.panel.px_per_mm, elder=app.theme.elder)
    size = f"{Window.width}x{Window.height}"
    for f in found:
        f.size = size
    return found


# -- the tour: every screen, both modes, long data ------------------------------------

Sink = Callable[[str, list[Finding]], None]


def _geometry(app) -> list:
    return [(w.pos[0], w.pos[1], w.size[0], w.size[1], tuple(getattr(w, "texture_size", ())))
            for w in walk(top_layer(app))]


def settle(app, frame: float = 0.05, most: int = 40):
    """Scenario steps until the layout stops moving (text fitting and wrapping take a few frames)."""
    before = None
    for _ in range(most):
        yield frame
        now = _geometry(app)
        if now == before:
            return
        before = now


def _long_person(person):
    return dataclasses.replace(person, name=LONG_NAME, address=LONG_ADDRESS)


def _long_table():
    """A 20-row payment table with the longest values a page shows."""
    from kiosk.flows.step import Column, EnquiryResult  # the step model's table types (screens stay above flows)

    cols = [Column("month", "月份"), Column("amount", "金额（元）"), Column("status", "状态"),
            Column("reason", "说明")]
    rows = [{"month": f"2025-{(i % 12) + 1:02d}", "amount": f"{3125.5 + i:.2f}元", "status": "已发放" if i % 4 else "暂停",
             "reason": "" if i % 4 else "未按时完成年度资格认证"} for i in range(20)]
    return EnquiryResult(26, "养老金发放查询", cols, rows, total=40, page=1, page_size=20)


def tour(app, sink: Sink, modes: Iterable[bool] = (False, True), guides: Iterable[int] | None = None):
    """Scenario script: visit every screen in each mode and hand its findings to ``sink``."""
    from kiosk.screens.widgets import IdleWarning

    def look(name: str):
        yield from settle(app)
        sink(name, audit(app, name))

    def close_popups():
        for w in list(Window.children):
            if isinstance(w, ModalView):
                w.dismiss(animation=False)

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0)
    guides = list(guides) if guides is not None else [i.no for i in app.catalog.items]
    # A simulated resident, renamed: a 15-character name and a 35-character address.
    app.devices.sim_insert("idcard", 2)
    yield lambda: app.logged_in
    person = _long_person(app.sessions.current.person)
    app.devices.sim_remove("idcard")
    for elder in modes:
        if app.logged_in:
            app.logout("layout audit: next mode")
        app.go_attract()
        yield lambda: app.sm.current == "attract"
        if app.theme.elder != elder:
            app.toggle_elder()
        yield 0.5
        yield from look("attract")
        app.sm.get_screen("attract").message = "二维码已过期，请在手机上刷新电子社保卡二维码后再对准摄像头。"
        yield from look("attract with error")
        app.sm.get_screen("attract").message = ""
        app.browse()
        yield lambda: app.sm.current == "menu"
        yield from look("menu (not logged in)")
        app.sessions.login(person)
        yield lambda: app.sm.current == "menu" and app.logged_in
        yield from look("menu")
        for cat in app.catalog.categories:
            app.go("items", category_id=cat.id)
            yield from look(f"items {cat.id}")
        for no in guides:
            app.go("guide", item_no=no)
            yield from look(f"guide {no}")
        if app.sm.has_screen("search"):
            app.go("search")
            yield from look("search")
            search = app.sm.get_screen("search")
            for ch in "sb":  # the query with the most hits
                search.type(ch)
            yield from look("search results")
        if app.sm.has_screen("disclosure"):
            app.go("disclosure", path=())
            yield from look("disclosure")
            cat = app.sm.get_screen("disclosure").catalog()
            group = max(cat.children(), key=lambda g: len(cat.items_under(g)))
            app.go("disclosure", path=(group,))
            yield from look("disclosure group")
            longest = max(cat.items_under(), key=lambda i: len(i.name))
            app.go("disclosure_item", item_no=longest.no)
            yield from look("disclosure item (longest name)")
        if app.sm.has_screen("flow"):
            yield from _flow_tour(app, person, look, close_popups)
        popup = IdleWarning()
        popup.open(animation=False)
        yield from look("idle warning")
        popup.dismiss(animation=False)
        app.logout("layout audit done")
        yield lambda: app.sm.current == "attract"
        if app.sm.has_screen("tech_login"):  # built on first use
            yield from _tech_tour(app, look)
            app.plugins_tech.leave()
            yield lambda: app.sm.current == "attract"


def _flow_tour(app, person, look, close_popups):
    """Flow steps rendered from the catalog's own fields (the platform's answers do not matter to a layout):
    every form, blank and with every field in error, the keyboards, a 20-row result, a refusal."""
    from kiosk.flows.step import Step
    from kiosk.flows.fields import field_state
    from kiosk.screens.keyboards import open_keyboard

    flow = app.sm.get_screen("flow")
    app.go("flow")
    for item in app.catalog.items:
        if not item.fields:
            continue
        fields = [field_state(f) for f in item.fields]
        step = Step(kind="form", title_zh=f"{item.no}. {item.name}", message_zh="请填写以下内容，填好后点“下一步”。",
                    fields=fields, can_back=True)
        flow.render(step)
        yield from look(f"form {item.no}")
        for fs in fields:
            fs.error_zh = ("请选择" if fs.choices else "请填写") + fs.label
        flow.render(step)
        flow.ids.scroll.scroll_y = 0
        yield from look(f"form {item.no} with errors")
    for kb in ("pinyin", "numeric", "id_number", "date", "decimal", "alnum"):
        open_keyboard(kb, "期望工作地点" if kb == "pinyin" else "联系电话", "临县" if kb == "pinyin" else "1391234",
                      lambda _v: None, "")
        yield from look(f"{kb} keyboard")
        close_popups()
    flow.render(Step(kind="result", title_zh="26. 养老金发放查询", message_zh="共40条记录，本页20条",
                     table=_long_table(), can_print=True,
                     summary=[("姓名", person.masked_name), ("地址", LONG_ADDRESS)]))
    yield from look("result (20 rows)")
    flow.ids.scroll.scroll_y = 0
    yield from look("result (20 rows), bottom")
    flow.render(Step(kind="refused", title_zh="3. 失业登记", message_zh="您目前不符合办理条件",
                     notes_zh=["您已按月领取基本养老金，不能办理失业登记。请到柜台咨询。"]))
    yield from look("refused")
    from kiosk.screens.flow import BusyPopup

    busy = BusyPopup(text="正在提交，请稍候")
    busy.open(animation=False)
    yield from look("busy popup")
    busy.dismiss(animation=False)
    if app.sm.has_screen("photo"):
        app.go("photo", flow_screen=flow)
        yield from look("photo")
    flow.wipe()
    app.go_home()


def _tech_tour(app, look):
    """Technician screens. The tour opens them with a layout-only session (never a resident's process)."""
    from kiosk.flows import staff_auth as sa
    from kiosk.screens.technician import HOME_ITEMS

    app.open_technician()
    yield lambda: app.sm.current == "tech_login"
    ctl = app.plugins_tech
    yield from look("tech login")
    account = sa.StaffAccount("T0012", LONG_NAME, "", frozenset({sa.Role.TECHNICIAN}), source="offline")
    ctl.mode.session = sa.StaffSession(account, frozenset(sa.Feature) - {sa.Feature.SELFTEST},
                                       _dt.datetime.now().timestamp())
    ctl.logged_in(None)
    yield lambda: app.sm.current == "tech_home"
    yield from look("tech home")
    for _feature, _text, screen in HOME_ITEMS:
        if screen == "tech_selftest":
            continue  # it prints a test page; its layout is the same page as the others
        ctl.open(screen)
        yield lambda s=screen: app.sm.current == s
        yield 0.3
        yield from look(screen)
