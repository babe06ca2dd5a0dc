"""kiosk.core.storage: atomic writes, recovery from torn files, one owner per file, thread-safe tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from kiosk.core.storage import StorageError, open_db


def test_round_trip_is_utf8_and_atomic(tmp_path):
    path = tmp_path / "db.json"
    db = open_db(path)
    db.table("t").insert({"name": "张三", "note": "已暂存"})
    db.table("t").insert({"n": 2})
    db.close()
    raw = path.read_bytes()
    assert "张三".encode("utf-8") in raw  # written as UTF-8 whatever the locale
    assert not (tmp_path / "db.json.tmp").exists()
    assert json.loads((tmp_path / "db.json.bak").read_text(encoding="utf-8"))["t"] == {"1": {"name": "张三", "note": "已暂存"}}
    db = open_db(path)
    assert [d["name"] for d in db.table("t").all() if "name" in d] == ["张三"]
    db.close()


@pytest.mark.parametrize("damage", [b"", b"   ", b'{"t": {"1": {"name": "\xe5\xbc', b"\x00" * 64])
def test_torn_or_empty_file_recovers_the_last_good_state(tmp_path, damage, caplog):
    path = tmp_path / "db.json"
    db = open_db(path)
    db.table("t").insert({"n": 1})
    db.table("t").insert({"n": 2})
    db.close()
    path.write_bytes(damage)  # power cut in the middle of a non-atomic writer, or a zeroed block
    db = open_db(path)
    assert [d["n"] for d in db.table("t").all()] == [1]  # the .bak: the state before the last write
    db.table("t").insert({"n": 3})
    db.close()
    if damage.strip():
        assert any(p.name.startswith("db.json.corrupt-") for p in tmp_path.iterdir())
        assert "torn" in caplog.text
    db = open_db(path)
    assert [d["n"] for d in db.table("t").all()] == [1, 3]
    db.close()


def test_torn_file_without_backup_starts_empty(tmp_path):
    path = tmp_path / "db.json"
    path.write_bytes(b'{"t": {"1": ')
    db = open_db(path)
    assert db.table("t").all() == []
    db.close()


def test_one_process_owns_the_file(tmp_path):
    path = tmp_path / "db.json"
    db = open_db(path)
    code = "import sys; from kiosk.core.storage import open_db\ntry:\n open_db(sys.argv[1])\nexcept Exception as e:\n print(type(e).__name__)"
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.getcwd()}).stdout
    assert out.strip() == "StorageError"
    with pytest.raises(StorageError) as exc:
        open_db(path)
    assert exc.value.message_zh
    db.close()
    open_db(path).close()  # released on close (and by the kernel if the owner dies)


def test_threads_share_one_db_without_losing_writes(tmp_path):
    db = open_db(tmp_path / "db.json", fsync=False)
    table = db.table("t")

    def worker(k):
        for i in range(25):
            table.insert({"k": k, "i": i})
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(table) == 100
    assert len({d.doc_id for d in table.all()}) == 100
    db.close()
