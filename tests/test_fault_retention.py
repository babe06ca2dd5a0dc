"""Fault 5 (issue 12): photos and personal data are not kept beyond their purpose.

Real parts: a real outbox file (TinyDB on AtomicJSONStorage), a real 256 KiB
tmpfs that runs full, and a platform client pointed at a closed loopback port
(the platform is down, so records stay pending).
"""

from __future__ import annotations

import datetime as _dt
import os
import time

import pytest

from kiosk.core import config as kconfig
from kiosk.core.errors import ConfigError
from kiosk.core.idnumber import make_id
from kiosk.platform.http_client import HttpPlatform
from kiosk.platform.outbox import Outbox
from tests.test_fault_threads import small_disk  # noqa: F401 - the real small tmpfs

ID = make_id("141124", _dt.date(1962, 3, 8), 21)
PHOTO = b"\xff\xd8\xff\xe0" + os.urandom(40_000) + b"\xff\xd9"


def down_platform() -> HttpPlatform:
    return HttpPlatform("http://127.0.0.1:9", "kiosk-test", "secret", 0.2, 0.2)


def open_box(path, **kw) -> Outbox:
    return Outbox(path, down_platform(), autostart=False, **kw)


def test_orphan_photos_and_temps_are_deleted_at_start_pending_photo_kept(tmp_path):
    box = open_box(tmp_path / "outbox.json")
    ref = box.enqueue(21, ID, {"phone": "13912345678"}, PHOTO)
    mine = box.get(ref.ref)
    assert mine is not None
    kept = sorted(os.listdir(box.photo_dir))
    box.close()
    # what a crash between photo and record, or during a photo write, leaves behind
    (box.photo_dir / "L20260101000000-ABCDEF.jpg").write_bytes(PHOTO)
    (box.photo_dir / ".L20260101000001-ABCDEF.jpg.tmp").write_bytes(PHOTO[:100])
    box = open_box(tmp_path / "outbox.json")
    try:
        assert sorted(os.listdir(box.photo_dir)) == kept and len(kept) == 1
        assert (box.photo_dir / kept[0]).read_bytes() == PHOTO
    finally:
        box.close()


def test_full_disk_leaves_no_truncated_photo(small_disk):
    box = open_box(small_disk / "outbox.json")
    try:
        big = b"\xff\xd8" + os.urandom(400_000) + b"\xff\xd9"   # larger than the whole disk
        with pytest.raises(OSError):
            box.enqueue(21, ID, {"phone": "13912345678"}, big)
        assert os.listdir(box.photo_dir) == []        # neither a truncated photo nor its temp
        assert box.pending() == []
    finally:
        box.close()


def test_records_older_than_retention_are_deleted_with_photos_and_backup(tmp_path):
    box = open_box(tmp_path / "outbox.json", retention_s=86400.0)
    try:
        box.enqueue(21, ID, {"phone": "13912345678"}, PHOTO)
        box.enqueue(3, ID, {"phone": "13912345678"})
        assert box.expire() == 0 and len(box.pending()) == 2
        assert box.expire(now=time.time() + 2 * 86400) == 2
        assert box.pending() == [] and os.listdir(box.photo_dir) == []
    finally:
        box.close()
    for name in os.listdir(tmp_path):
        p = tmp_path / name
        if p.is_file():
            assert ID not in p.read_text(encoding="utf-8", errors="replace"), name


def test_expired_records_are_deleted_when_the_kiosk_starts(tmp_path):
    box = open_box(tmp_path / "outbox.json")
    box.enqueue(21, ID, {"phone": "13912345678"}, PHOTO)
    box.close()
    time.sleep(0.05)
    box = open_box(tmp_path / "outbox.json", retention_s=0.01)
    try:
        assert box.pending() == [] and os.listdir(box.photo_dir) == []
    finally:
        box.close()


def test_retention_days_is_configurable_and_validated(tmp_path):
    conf = tmp_path / "kiosk.toml"
    conf.write_text("[storage]\nretention_days = 7\n")
    cfg = kconfig.load(conf, env={})
    assert cfg.settings.storage.retention_days == 7 and cfg.settings.storage.retention_s == 7 * 86400
    assert kconfig.load(env={}).settings.storage.retention_days == 30      # the shipped config/kiosk.toml
    for bad in ("0", "-1", "1000", '"x"'):
        conf.write_text(f"[storage]\nretention_days = {bad}\n")
        with pytest.raises(ConfigError, match="retention_days"):
            kconfig.load(conf, env={})
