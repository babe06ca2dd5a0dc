"""SIGKILL at random points while submitting: every acknowledged submission reaches the platform exactly once."""

from __future__ import annotations

from kiosk.platform import killcheck
from tests.platform_support import client, sample, start, submissions


def test_fifty_kill9_runs_lose_and_duplicate_nothing(tmp_path):
    sim = start()
    try:
        ids = [p["id_number"] for p in sample(sim.url, 20, qualifies=1)]
        report = killcheck.run(tmp_path / "outbox.json", lambda: client(sim.url, max_attempts=1), ids,
                               lambda: [s["idempotency_key"] for s in submissions(sim.url)], runs=50)
    finally:
        sim.stop()
    print(report)
    assert report.runs == 50
    assert report.acknowledged >= 10         # the kills really interrupted a busy submitter
    assert report.lost == 0
    assert report.duplicates == 0
    assert report.delivered == report.acknowledged
