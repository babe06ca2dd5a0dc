"""A short soak through the real app (bench/soak.py): visits by the three login paths, faults,
a SIGKILL with restart; every acknowledged submission delivered exactly once, the app back on
the attract screen. Uses the social-security card: run under flock /tmp/kiosk-pcsc.lock."""

from __future__ import annotations

from bench.soak import checks, run


def test_short_soak_with_a_kill_delivers_every_acknowledged_submission_once(tmp_path):
    # Seed 3 draws a printer out of paper and a slow platform in the first visits.
    r = run(visits=3, seed=3, kill_every=0.5, tmp=tmp_path)
    assert checks(r, 3) == []
    assert r["logins"] == {"idcard": 1, "sscard": 1, "qr": 1}
    assert r["kills"] >= 1 and r["starts"] >= 2
    assert r["acknowledged"] >= 3 and r["delivered"] == r["acknowledged"] and r["duplicates"] == 0
    assert r["end_screen"] == "attract" and not r["end_session"]
    # Each visit brings another resident: three applications reach the platform, not one
    # repeated (a same-day repeat is answered with the first application's number).
    assert r["platform_submissions"] == 3
