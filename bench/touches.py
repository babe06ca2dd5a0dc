"""Touches from login to printed receipt for items 3, 11, 21 and 26 (issue 7).

Drives the real kiosk (``python -m kiosk.runner --script``) in a fresh process
per scenario, under Xvfb when DISPLAY is unset, on embedded defaults: the
platform simulator on a loopback port, the ID-card reader on its pty
simulator, the printer simulator. Login is the simulated ID card placed on
the reader (hotkey F1..F5, not a touch). Every touch that reaches the window
is counted by a handler bound to ``Window.on_touch_down`` from the moment
the menu appears until the receipt job is reported done by the printer; the
button captions pressed are listed too.

Residents (kiosk/sim_people.py): F1 enterprise pensioner (items 21, 26),
F3 unemployed job seeker (items 1, 3), F4 young farmer (item 11: F3 is
already registered unemployed, the platform refuses a second registration). Item 3 (job vacancies) is for
registered job seekers: the scenario first tries it, and if the platform
says "not registered" does item 1 (fixed-worker job-seeker registration)
and counts that separately, then item 3.

Baseline in the same run: the minimum a touch UI needs for an item
(category -> item -> start -> print = 4 touches, the "floor"), so the
ratio touches/floor says how much of each visit is form entry.

    /work/venv/bin/python bench/touches.py [--items 3,11,21,26]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

F1, F3, F4, F6 = 282, 284, 285, 287
FLOOR = 4  # category, item, 开始办理, 打印回执
PHONE = "13912345678"


# ------------------------------------------------------------ in the kiosk process

def _counter():
    from tests.ui_helpers import TouchCounter

    return TouchCounter()


def _key(key: int) -> None:
    from kivy.core.window import Window

    Window.dispatch("on_key_down", key, 0, None, [])


def _press(counter, text: str):
    yield from counter.press(text)


def _login(app, key: int):
    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0)
    _key(key)  # the card placed on the reader
    yield lambda: app.sm.current == "menu"
    yield 0.3


def _step_kind(app) -> str | None:
    step = app.sm.get_screen("flow").step
    return None if step is None else step.kind


def _settled(app):
    from tests.ui_helpers import flow_step

    kinds = ("form", "confirm", "result", "done", "refused", "counter", "error")
    return lambda: app.sm.current == "flow" and any(flow_step(app, k)() for k in kinds)


def _open(app, c, category: str, no: int, press=_press):
    yield from press(c, category)
    yield lambda: app.sm.current == "items"
    yield from press(c, f"{no}.")
    yield lambda: app.sm.current == "guide"
    yield from press(c, "开始办理")


def _print(app, c):
    from tests.ui_helpers import printed

    app.last_print = None
    yield from _press(c, "打印回执")
    yield printed(app)


def _fill_form(app, c, answers: dict[str, str]):
    """Fill the form's empty required fields the way a resident would: keypad
    digits for numbers and dates, one tap for a choice. Prefilled fields are left."""
    step = app.sm.get_screen("flow").step
    for fs in list(step.fields):
        if fs.value or (not fs.required and fs.name not in answers):
            continue
        value = answers[fs.name]
        if fs.keyboard == "choice":
            yield from _press(c, value)
            continue
        if fs.keyboard not in ("numeric", "date", "decimal", "id_number"):
            raise AssertionError(f"field {fs.name} needs keyboard {fs.keyboard}; give a numeric answer")
        yield from _press(c, "点此输入")
        for ch in value.replace("-", ""):
            yield from _press(c, ch)
        yield from _press(c, "确定")


def _submit_and_print(app, c, answers: dict[str, str]):
    if _step_kind(app) == "form":
        yield from _fill_form(app, c, answers)
        yield from _press(c, "下一步")
        yield _settled(app)
    if _step_kind(app) == "confirm":
        yield from _press(c, "确认提交")
        yield _settled(app)
    kind = _step_kind(app)
    assert kind in ("result", "done", "counter"), f"ended on step {kind}: {app.sm.get_screen('flow').step.message_zh}"
    yield from _print(app, c)


def _result(app, c, item: int) -> dict:
    from tests.ui_helpers import last_job_lines

    out = c.stop()
    step = app.sm.get_screen("flow").step
    out.update(item=item, outcome=step.outcome, reference=step.reference,
               receipt_lines=len(last_job_lines(app)), printed=app.last_print.message)
    return out


def _close_print_popup(app, c, press=_press):
    from kivy.core.window import Window

    from kiosk.screens.printing import PrintPopup

    if any(isinstance(w, PrintPopup) for w in Window.children):
        yield from press(c, "关闭")
        yield lambda: not any(isinstance(w, PrintPopup) for w in Window.children)


def _on_screen(text: str) -> bool:
    from kivy.core.window import Window

    from tests.ui_helpers import labels

    return any(w.text.split("\n", 1)[0].startswith(text) and not w.disabled and w.opacity > 0
               for w in labels(Window))


def scenario_item26(app):
    from tests.ui_helpers import report

    c = _counter()
    yield from _login(app, F1)
    c.start()
    yield from _open(app, c, "我要办社保", 26)
    yield _settled(app)
    yield from _submit_and_print(app, c, {})
    report("touches", [_result(app, c, 26)])


def scenario_item21(app):
    from kiosk import ROOT as KROOT
    from tests.ui_helpers import report

    c = _counter()
    yield from _login(app, F1)
    # The resident stands in front of the camera: a good frame is showing.
    app.devices.camera.show(KROOT / "images/sim/camera/photo/pass.jpg")
    c.start()
    yield from _open(app, c, "我要办社保", 21)
    yield lambda: app.sm.current == "photo"
    yield 0.5
    yield from _press(c, "拍照")
    yield lambda: app.sm.get_screen("photo").accepted == 1 or app.sm.get_screen("photo").verdict != ""
    yield from _press(c, "使用这张")
    yield _settled(app)
    yield from _submit_and_print(app, c, {"phone": PHONE})
    report("touches", [_result(app, c, 21)])


def scenario_item11(app):
    from tests.ui_helpers import report

    c = _counter()
    yield from _login(app, F4)
    c.start()
    yield from _open(app, c, "我要找工作", 11)
    yield _settled(app)
    yield from _submit_and_print(app, c, {"phone": PHONE, "reason": "从用人单位失业", "unemployed_since": "2026-05-01"})
    report("touches", [_result(app, c, 11)])


ITEM1_TYPED = (("DIAN", "电", "GONG", "工"), ("LIN", "临", "XIAN", "县"))


#: One-tap answers for 求职工种 and 期望工作地点 when the form offers them (the same wish: an
#: electrician's job near home); otherwise typed as ITEM1_TYPED.
ITEM1_TAPPED = ("电工", "本县")


def _register_item1(app, c):
    """Item 1's form as the job seeker fills it: job type and place with one tap where the
    form offers common answers, else on the pinyin keypad (syllable, then the character from
    the candidate bar); pay on the keypad."""
    for syllables, chip in zip(ITEM1_TYPED, ITEM1_TAPPED):  # 求职工种, 期望工作地点
        if _on_screen(chip):
            yield from _press(c, chip)
            continue
        yield from _press(c, "点此输入")
        for i in range(0, 4, 2):
            for ch in syllables[i]:
                yield from _press(c, ch)
            yield from _press(c, syllables[i + 1])
        yield from _press(c, "确定")
    yield from _press(c, "点此输入")  # 期望月薪
    for ch in "3500":
        yield from _press(c, ch)
    yield from _press(c, "确定")
    yield from _press(c, "初中")
    yield from _submit_and_print(app, c, {"phone": PHONE})


def scenario_item1(app):
    """Job-seeker registration (item 1) straight from the menu."""
    from tests.ui_helpers import report

    c = _counter()
    yield from _login(app, F3)
    c.start()
    yield from _open(app, c, "我要找工作", 1)
    yield _settled(app)
    yield from _register_item1(app, c)
    report("touches", [_result(app, c, 1)])


def scenario_item3(app):
    """Item 3 as a new job seeker meets it: refused with a link to item 1,
    register (item 1, receipt), then the link back to item 3 if the result
    offers one, else the menu again."""
    from tests.ui_helpers import report

    results = []
    c = _counter()
    yield from _login(app, F3)
    c.start()
    yield from _open(app, c, "我要找工作", 3)
    yield _settled(app)
    if _step_kind(app) == "refused":
        first_try = c.stop()
        first_try.update(item=3, outcome="refused: " + app.sm.get_screen("flow").step.message_zh)
        results.append(first_try)
        c.start()
        yield from _press(c, "去办理：1.")  # the refusal's own link to the registration
        yield _settled(app)
        yield from _register_item1(app, c)
        results.append(_result(app, c, 1))
        c.start()
        yield from _close_print_popup(app, c)
        if _on_screen("去办理：3."):
            yield from _press(c, "去办理：3.")
            yield _settled(app)
            how = "link on the registration result"
        else:
            yield from _press(c, "完成")
            yield lambda: app.sm.current == "flow" and _step_kind(app) == "done"
            yield from _press(c, "回到首页")
            yield lambda: app.sm.current == "menu"
            yield from _press(c, "我要找工作")
            yield lambda: app.sm.current == "items"
            yield from _press(c, "3.")
            yield lambda: app.sm.current == "guide"
            yield from _press(c, "开始办理")
            yield _settled(app)
            how = "back through the menu"
        row = c.stop()
        row.update(item="1→3", outcome=f"from item 1's receipt to item 3's first screen ({how})")
        results.append(row)
        c.start()
    yield from _submit_and_print(app, c, {})
    row = _result(app, c, 3)
    if len(results) > 1:
        row["visit"] = "via link"
    results.append(row)
    # A later visit of the now registered job seeker: close, log out, card away, card again.
    yield from _close_print_popup(app, c)
    app.logout("bench: end of visit")  # not counted; the next visit starts at a new login
    yield lambda: app.sm.current == "attract"
    _key(F6)
    yield 1.0
    yield from _login(app, F3)
    c.start()
    yield from _open(app, c, "我要找工作", 3)
    yield _settled(app)
    yield from _submit_and_print(app, c, {})
    row = _result(app, c, 3)
    row["visit"] = "registered"
    results.append(row)
    report("touches", results)


# ------------------------------------------------------------ driver (outside)

SCENARIOS = {1: "scenario_item1", 3: "scenario_item3", 11: "scenario_item11", 21: "scenario_item21", 26: "scenario_item26"}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_scenario(name: str, tmp: Path) -> list[dict]:
    tmp.mkdir(parents=True, exist_ok=True)
    cfg = tmp / "kiosk.toml"
    cfg.write_text(f'[ui]\nfullscreen = false\n[platform]\nurl = "http://127.0.0.1:{free_port()}"\n'
                   f'[storage]\ndir = "{tmp / "var"}"\n', encoding="utf-8")
    env = dict(os.environ, KIVY_HOME=str(tmp / "kivy"), SDL_AUDIODRIVER="dummy", KIOSK_TEST_OUT=str(tmp),
               KIVY_NO_CONSOLELOG="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-m", "kiosk.runner", "--script", f"bench.touches:{name}",
                           "--config", str(cfg)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = tmp / "touches.json"
    if proc.returncode != 0 or not out.exists():
        raise SystemExit(f"{name} failed (exit {proc.returncode}):\n{proc.stderr[-5000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", default="1,3,11,21,26")
    ap.add_argument("--json", action="store_true", help="also print the raw results")
    args = ap.parse_args()
    from kiosk.display import ensure_display

    display = ensure_display(1280, 800, announce=False)
    base = Path(tempfile.mkdtemp(prefix="kiosk-touches-"))
    rows: list[dict] = []
    try:
        for no in (int(x) for x in args.items.split(",")):
            rows += [dict(r, scenario=no) for r in run_scenario(SCENARIOS[no], base / str(no))]
    finally:
        if display:
            display.stop()
    print(f"touches from login (card read, menu shown) to printed receipt; floor = {FLOOR} "
          "(category, item, start, print)")
    print(f"{'item':>5} {'touches':>8} {'floor':>6} {'ratio':>6}  outcome / path")
    for r in rows:
        note = r["outcome"] if not isinstance(r["item"], int) or str(r["outcome"]).startswith("refused") else \
            f"{r['outcome']}, ref {r.get('reference') or '-'}, receipt {r.get('receipt_lines')} lines"
        full = isinstance(r["item"], int) and not str(r["outcome"]).startswith("refused") \
            and r.get("visit") != "via link"
        ratio = f"{r['touches'] / FLOOR:>6.2f}" if full else f"{'-':>6}"
        print(f"{r['item']:>5} {r['touches']:>8} {FLOOR if full else '-':>6} {ratio}  {note}")
        print(f"{'':>29}{' > '.join(r['pressed'])}")
    print("per scenario (login to last receipt; rows above in order):")
    for no in sorted({r["scenario"] for r in rows}):
        mine = [r for r in rows if r["scenario"] == no]
        if no == 3 and len(mine) > 2:
            first = mine[:-1]
            print(f"  item 3, unregistered job seeker (refused, item 1, item 3): "
                  f"{sum(r['touches'] for r in first)} touches, of which item 1 {mine[1]['touches']}")
            print(f"  item 3, registered job seeker (later visit): {mine[-1]['touches']} touches")
        else:
            print(f"  item {no}: {sum(r['touches'] for r in mine)} touches")
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
