"""Screenshots of every technician screen, standard or elder (KIOSK_SNAPSHOT_ELDER=1), in one kiosk run.

    KIOSK__DEVICES__SSCARD__DRIVER=none KIOSK_SNAPSHOT_DIR=OUT [KIOSK_SNAPSHOT_SUFFIX=-before] \\
        [KIOSK_SNAPSHOT_ELDER=1] TZ=Asia/Shanghai python -m kiosk.runner \\
        --script tests.snapshot_technician:scenario --config CFG

Opens technician mode with a layout-only staff session holding every permission
(as kiosk.screens.layout_audit does), runs the self-test with a test page (so
最近凭条 has receipts), then opens each screen. Names: <screen>[-elder]<suffix>.png.
The same script runs on the tree before the technician split (the -before pictures).
"""
from __future__ import annotations

import datetime as _dt
import os


def _shot(app, name):
    from tests.ui_helpers import shot
    shot(name + ("-elder" if app.theme.elder else "") + os.environ.get("KIOSK_SNAPSHOT_SUFFIX", ""))


def scenario(app):
    from kiosk.flows import staff_auth as sa

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0)
    if os.environ.get("KIOSK_SNAPSHOT_ELDER"):
        app.theme.elder = True
    yield 0.5
    app.open_technician()
    yield lambda: app.sm.current == "tech_login"
    yield 0.5
    _shot(app, "tech_login")
    ctl = app.plugins_tech
    account = sa.StaffAccount("T0012", "王建国", "", frozenset({sa.Role.TECHNICIAN}), source="offline")
    ctl.mode.session = sa.StaffSession(account, frozenset(sa.Feature), _dt.datetime.now().timestamp())
    ctl.logged_in(type("R", (), {"session": None, "method": "offline_pin"})())
    yield lambda: app.sm.current == "tech_home"
    yield 0.5
    _shot(app, "tech_home")
    app.go("tech_selftest", _push=False, test_page=True)
    st = app.sm.get_screen("tech_selftest")
    yield lambda: app.sm.current == "tech_selftest" and not st.running and len(st.rows) == 9
    yield 0.5
    _shot(app, "tech_selftest")
    for screen in ("tech_log", "tech_outbox", "tech_receipts", "tech_info", "tech_settings", "tech_fault",
                   "tech_faults"):
        ctl.open(screen)
        yield lambda s=screen: app.sm.current == s
        yield 2.0 if screen == "tech_faults" else 0.7
        _shot(app, screen)
    ctl.leave()
    yield 0.3
