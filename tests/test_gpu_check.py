"""The renderer check at start: logged, and a software rasteriser raises a technician alert."""

from __future__ import annotations

import json

import pytest

from kiosk.gpu_check import GpuReport, is_software


@pytest.mark.parametrize("renderer,software", [
    ("llvmpipe (LLVM 15.0.6, 256 bits)", True),
    ("softpipe", True),
    ("Mesa X11 swrast", True),
    ("Software Rasterizer", True),
    ("Mali-G52 r1 (Panfrost)", False),
    ("Mali-G52", False),
    ("Mesa Intel(R) UHD Graphics 620 (KBL GT2)", False),
    ("AMD Radeon Vega 8 Graphics (radeonsi, raven, LLVM 15.0.6, DRM 3.49)", False),
    ("", False),
])
def test_software_renderers_are_recognised(renderer, software):
    assert is_software(renderer) is software
    assert GpuReport(renderer).software is software


def scenario_renderer(app):
    from tests.ui_helpers import report

    yield lambda: "display" in app.devices.status()  # the start-up work runs after the first frame
    states = {k: [v.driver, v.status, v.detail] for k, v in app.devices.status().items()}
    report("gpu", {"states": states})


def test_the_renderer_is_logged_and_software_rendering_alerts_the_technician(run_kiosk, tmp_path):
    # Xvfb has no GPU: Mesa draws with llvmpipe, exactly what a kiosk with a broken driver does.
    proc = run_kiosk("tests.test_gpu_check:scenario_renderer")
    got = json.loads((tmp_path / "gpu.json").read_text(encoding="utf-8"))
    logged = [line for line in (proc.stderr + proc.stdout).splitlines() if "OpenGL renderer:" in line]
    assert logged, "the renderer is logged at start"
    renderer = logged[0].split("OpenGL renderer: ", 1)[1]
    # Xvfb never has a GPU, so the renderer is always a software one here.
    assert is_software(renderer), renderer
    display = got["states"]["display"]
    assert display[:2] == ["opengl", "software_rendering"]
    assert "图形加速未启用" in display[2] and renderer.split()[0] in display[2]
    assert "technician alert: software rendering" in proc.stderr + proc.stdout
