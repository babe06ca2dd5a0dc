"""Both identity devices log a resident in through their real transports.

The ID-card reader is the real driver on a pty running the SAM-protocol
simulator; the social-security card is the real PC/SC driver reading a
virtual card through pcscd + vpcd.
"""

from __future__ import annotations

import json

from tests.test_ui_shell import _press


def scenario_sscard_login_and_removal(app):
    from tests.ui_helpers import report

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0) and app.devices.sscard is not None
    _press(288)  # F7: insert the social-security card of resident 1
    yield lambda: app.sm.current == "menu"
    person = app.sessions.current.person
    facts = {"source": person.source, "id": person.id_number, "who": app.who_text}
    _press(282)  # F1: the same resident lays the ID card on the reader as well
    yield 2.0
    facts["after_idcard_source"] = app.sessions.current.person.source
    facts["still_logged_in"] = app.logged_in
    _press(289)  # F8: take the social-security card out
    yield lambda: app.sm.current == "attract"
    facts["after_removal"] = {"logged_in": app.logged_in, "holds": app.sessions.current.holds_personal_data()}
    report("sscard", facts)


def scenario_idcard_removal_keeps_session(app):
    from tests.ui_helpers import report

    yield lambda: app.sm.current == "attract"
    _press(283)  # F2
    yield lambda: app.sm.current == "menu"
    _press(287)  # F6: the ID card is taken off the reader (as residents do)
    yield 2.0
    report("idcard", {"screen": app.sm.current, "logged_in": app.logged_in})


def test_social_security_card_logs_in_same_resident_and_removal_logs_out(run_kiosk, tmp_path):
    from kiosk.core import config
    from kiosk.demo_devices import synthetic_people

    proc = run_kiosk("tests.test_ui_identity:scenario_sscard_login_and_removal")
    got = json.loads((tmp_path / "sscard.json").read_text(encoding="utf-8"))
    resident = synthetic_people(config.load(tmp_path / "kiosk.toml"))[0]
    assert got["source"] == "sscard"
    assert got["id"] == resident.id_number
    assert got["who"] == f"您好，{resident.masked_name}"
    # The ID card of the same person resolves to the same session.
    assert got["still_logged_in"] is True and got["after_idcard_source"] == "sscard"
    assert got["after_removal"] == {"logged_in": False, "holds": False}
    assert resident.id_number not in proc.stderr


def test_id_card_taken_off_reader_does_not_end_visit(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_identity:scenario_idcard_removal_keeps_session")
    got = json.loads((tmp_path / "idcard.json").read_text(encoding="utf-8"))
    assert got == {"screen": "menu", "logged_in": True}
