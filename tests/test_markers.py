"""The fast subset's markers (tests/conftest.py) name real tests and mark what they should."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SLOW_MODULES, SLOW_TESTS

TESTS = Path(__file__).parent


def test_slow_lists_name_real_tests():
    # a renamed test must not silently drop out of the lists
    for module in SLOW_MODULES:
        assert (TESTS / module).is_file(), module
    for entry in SLOW_TESTS:
        module, name = entry.split("::")
        assert f"def {name}(" in (TESTS / module).read_text(encoding="utf-8"), entry


def _collected(marker: str) -> set[str]:
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", marker, "-p", "no:cacheprovider",
                          "tests/test_ui_shell.py", "tests/test_platform_kill9.py", "tests/test_qr_decode.py",
                          "tests/test_settings.py"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    return {line.split("::")[0] + "::" + line.split("::")[1].split("[")[0]
            for line in out.stdout.splitlines() if "::" in line}


def test_markers_select_the_fast_subset():
    fast = _collected("not ui and not slow")
    assert "tests/test_settings.py::test_elder_timeout_shorter_than_the_warning_is_refused_at_start" in fast
    assert "tests/test_qr_decode.py::test_decoders_read_a_phone_frame_and_ignore_a_wall" not in fast
    assert not any(t.startswith(("tests/test_ui_shell.py", "tests/test_platform_kill9.py")) for t in fast)
    ui = _collected("ui")
    assert "tests/test_ui_shell.py::test_login_and_navigate_to_item_26_guide" in ui
    assert not any(t.startswith("tests/test_settings.py") for t in ui)
