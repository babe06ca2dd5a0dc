"""A release's own Python dependencies, installed offline from the wheels it carries.

Decision (docs/fleet.md, "Releases that need new Python packages"): a
release that needs a package the shared ``/opt/kiosk/venv`` lacks (or a
newer version of one) ships ``requirements.txt`` and a wheelhouse
``wheels/``. While the release is staged (before ``RELEASE`` marks it
complete, long before any switch) the updater builds ``venv/`` inside the
release: a virtualenv without pip whose ``kiosk-shared.pth`` adds the
shared virtualenv's site-packages (Kivy, OpenCV … are not carried again),
then runs pip from the shared virtualenv against it::

    pip --python <release>/venv/bin/python install --no-index --find-links <release>/wheels -r requirements.txt

``--no-index``: nothing is fetched from any network; the wheels were
checked with the archive (its SHA-256 is in the signed manifest). Packages
the shared virtualenv already satisfies are not installed again; new or
newer ones land in the release's venv, which comes first on ``sys.path``.
If pip fails (a wheel missing, a wheel for another Python, a conflict) the
release is refused with the pip's last lines, nothing is left behind and
``current`` never moves. systemd starts ``current/venv/bin/python`` when the
release has one, the shared interpreter otherwise (systemd/kiosk.service).
Pruning a release removes its venv with it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import site
import subprocess
import sys
from pathlib import Path

from kiosk.fleet.bundles import BundleError

log = logging.getLogger("kiosk.fleet.deps")

REQUIREMENTS = "requirements.txt"
WHEELS = "wheels"
PTH = "kiosk-shared.pth"
PIP_TIMEOUT = 900.0


def needed(tree: Path) -> bool:
    return (tree / REQUIREMENTS).is_file()


def shared_site_packages() -> list[str]:
    """Site-packages of the shared virtualenv, also when this process runs from a release's venv."""
    own = site.getsitepackages()
    for d in own:
        pth = Path(d) / PTH
        if pth.is_file():  # a release venv: its shared paths, never a chain of release venvs
            return [json.loads(m) for m in re.findall(r"addsitedir\((\"[^\n]*\")\)", pth.read_text("utf-8"))]
    return [d for d in own if Path(d).is_dir()]


def _run(args: list[str], what: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    env["PIP_CONFIG_FILE"] = os.devnull  # no site pip.conf adding an index
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=PIP_TIMEOUT, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BundleError("dependencies_failed", f"{what}: {exc}") from exc
    if out.returncode != 0:
        tail = " | ".join((out.stderr or out.stdout).strip().splitlines()[-3:])
        raise BundleError("dependencies_failed", f"{what}: {tail}")
    return out.stdout


def build(tree: Path) -> None:
    """Make ``tree/venv`` with the release's requirements from ``tree/wheels`` (offline); raises BundleError."""
    wheels, venv = tree / WHEELS, tree / "venv"
    if not wheels.is_dir():
        raise BundleError("dependencies_failed", f"{REQUIREMENTS} without a {WHEELS}/ directory")
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], "venv")
    python = venv / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], "venv").strip()
    # ``import`` lines of a .pth run at start-up; addsitedir (unlike a bare path) also runs the
    # shared site-packages' own .pth files, as the shared interpreter would.
    Path(purelib, PTH).write_text(
        "".join(f"import site; site.addsitedir({json.dumps(p)})\n" for p in shared_site_packages()), encoding="utf-8"
    )
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-index",
            "--find-links",
            str(wheels),
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--no-input",
            "--no-warn-script-location",
            "-r",
            str(tree / REQUIREMENTS),
        ],
        "pip install",
    )
    log.info("release dependencies installed offline into %s", venv)
