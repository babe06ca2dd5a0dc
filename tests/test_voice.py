"""Voice prompts: real espeak-ng renders real WAV files a resident can hear."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from kiosk import voice
from kiosk.core.errors import ConfigError
from kiosk.voice_build import build, main

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")

REQUIRED = {
    "insert_card": "请把身份证放在感应区，或插入社保卡",
    "look_at_camera": "请看摄像头",
    "take_receipt": "请取走回执",
}


def _samples(path: Path) -> tuple[np.ndarray, float]:
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 1
        assert w.getsampwidth() == 2
        rate = w.getframerate()
        frames = w.readframes(w.getnframes())
    data = np.frombuffer(frames, dtype="<i2").astype(np.float64)
    return data, len(data) / rate


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("voice")
    report = build(voice.PROMPTS_PATH, out)
    return out, report


def test_table_has_the_prompts_the_issue_names():
    table = voice.load_prompts()
    for key, text in REQUIRED.items():
        assert table.prompts[key] == text
    for key in ("choose_service", "confirm", "timeout_warning", "logged_out", "printing", "paper_out", "qr_show"):
        assert table.prompts[key]


def test_every_prompt_is_a_non_silent_wav_of_plausible_length(built):
    out, report = built
    table = voice.load_prompts()
    assert sorted(report.written) == sorted(table.prompts)
    for key, text in table.prompts.items():
        path = voice.prompt_path(key, out)
        assert path is not None and path.name == f"{key}.wav"
        data, seconds = _samples(path)
        # Slow Mandarin: roughly 0.15-0.6 s per character, plus lead-in/out.
        assert 0.1 * len(text) < seconds < 0.8 * len(text) + 2, (key, seconds)
        rms = float(np.sqrt(np.mean(data ** 2)))
        assert rms > 300, (key, rms)  # int16 full scale is 32767; silence is ~0
        assert np.abs(data).max() > 3000


def test_second_run_rewrites_nothing(built):
    out, _ = built
    before = {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in out.iterdir()}
    report = build(voice.PROMPTS_PATH, out)
    assert report.written == [] and report.removed == []
    after = {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in out.iterdir()}
    assert after == before


def test_changed_text_regenerates_only_that_prompt(tmp_path):
    table = tmp_path / "p.toml"
    table.write_text('[prompts]\na = "请看摄像头"\nb = "请取走回执"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert sorted(build(table, out).written) == ["a", "b"]
    table.write_text('[prompts]\na = "请看摄像头"\nb = "请取走您的回执"\n', encoding="utf-8")
    report = build(table, out)
    assert report.written == ["b"] and report.skipped == ["a"]
    table.write_text('[prompts]\na = "请看摄像头"\n', encoding="utf-8")
    report = build(table, out)
    assert report.removed == ["b"] and not (out / "b.wav").exists()


def test_deleted_file_is_rebuilt(tmp_path):
    table = tmp_path / "p.toml"
    table.write_text('[prompts]\na = "请看摄像头"\n', encoding="utf-8")
    build(table, tmp_path)
    (tmp_path / "a.wav").unlink()
    assert build(table, tmp_path).written == ["a"]


def test_cli_quiet_prints_nothing(tmp_path, capsys):
    assert main(["--quiet", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""
    assert voice.prompt_path("insert_card", tmp_path) is not None


def test_missing_prompt_is_none_and_bad_tables_are_refused(tmp_path):
    assert voice.prompt_path("take_receipt", tmp_path) is None
    with pytest.raises(ConfigError):
        voice.prompt_path("../etc/passwd", tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text('[prompts]\nok = ""\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        voice.load_prompts(bad)
    with pytest.raises(ConfigError):
        voice.prompt_text("no_such_prompt")
    assert main(["--quiet", "--prompts", str(bad), "--out", str(tmp_path)]) == 1
