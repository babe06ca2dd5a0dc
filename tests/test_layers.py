"""The layers of the kiosk package, checked from the source (ast, no window, no imports).

Imports only point down (docs/architecture.md, README "How it fits together"):

    core -> hardware, platform adapter -> receipts -> flows
         -> device hub, backend, fleet client -> screens -> app -> commands

* A module may import its own layer and the layers below, never one above.
* Sibling parts of one rank (hardware and platform) do not import each other.
* Screens reach devices and the platform through the hub, the backend and
  the flows, never by importing ``kiosk.hardware`` / ``kiosk.platform``.
* Simulators (``*_sim``, ``kiosk.platform.simulator``, ``kiosk.sim_people``)
  are imported only by other simulators, the demo launcher and the commands.

Imports inside functions count as much as those at the top: a lazy import is
still a dependency. Known exceptions are listed once, in ``KNOWN_EXCEPTIONS``,
each with its reason; an entry that no longer matches a real import fails the
test too, so the list can only shrink.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# (rank, part): a module's layer. Parts of the same rank are siblings.
# The longest matching prefix wins, so kiosk.platform.simulator overrides kiosk.platform.
LAYERS: dict[str, tuple[int, str]] = {
    # 0 core: UI-free basics every layer uses, and the process basics (logging that
    # masks ID numbers, the audit ledger, sd_notify).
    "kiosk": (0, "core"),  # the package root: ROOT, CONFIG_DIR, __version__
    "kiosk.core": (0, "core"),
    "kiosk.logbuffer": (0, "core"),
    "kiosk.logsetup": (0, "core"),
    "kiosk.audit": (0, "core"),
    "kiosk.sdnotify": (0, "core"),
    # 1 drivers and the platform adapter: siblings, neither knows the other.
    "kiosk.hardware": (1, "hardware"),
    "kiosk.platform": (1, "platform"),
    # 2 receipts: templates rendered to the printer's ESC/POS commands.
    "kiosk.receipts": (2, "receipts"),
    # 3 flows: rules, engine, session (UI-free).
    "kiosk.flows": (3, "flows"),
    # 4 services the screens use: device hub, backend (platform client + outbox),
    # fleet client, self-test, voice, watchdog.
    "kiosk.devices": (4, "hub"),
    "kiosk.backend": (4, "hub"),
    "kiosk.fleet": (4, "hub"),
    "kiosk.selftest": (4, "hub"),
    "kiosk.voice": (4, "hub"),
    "kiosk.voice_build": (4, "hub"),
    "kiosk.watchdog": (4, "hub"),
    "kiosk.gpu_check": (4, "hub"),
    # 5 Kivy screens.
    "kiosk.screens": (5, "screens"),
    # 6 the app and what starts it.
    "kiosk.app": (6, "app"),
    "kiosk.runner": (6, "app"),
    "kiosk.app_fleet": (6, "app"),
    "kiosk.kivy_setup": (6, "app"),
    "kiosk.display": (6, "app"),
    "kiosk.fonts": (6, "app"),
    # 7 the command line.
    "kiosk.commands": (7, "commands"),
    "kiosk.cli": (7, "commands"),
    "kiosk.__main__": (7, "commands"),
    # Simulators sit beside what they simulate (their rank is that of their host).
    "kiosk.sim_people": (4, "hub"),
    "kiosk.demo_devices": (4, "hub"),  # the device demo launcher
}

# Inside the flows, the engine's modules (docs/flows.md) point down too: the step model the
# screens render knows no mode, the modes do not know each other, the coordinator knows the modes,
# the headless driver sits on top. Same rank = siblings (no imports between them).
FLOW_SEAMS: dict[str, int] = {
    "kiosk.flows.site": 0,
    "kiosk.flows.card_notes": 0,
    "kiosk.flows.step": 1,
    "kiosk.flows.base": 2,
    "kiosk.flows.enquiry": 3,
    "kiosk.flows.submission": 3,
    "kiosk.flows.counter": 3,
    "kiosk.flows.engine": 4,
    "kiosk.flows.driver": 5,
}

# Parts that screens must not import directly (they go through hub, backend, flows).
SCREENS_MUST_NOT_REACH = ("hardware", "platform")

# The demo launchers: the only production doors to the simulators (importing them is allowed):
# the platform simulator's, and the devices' (kiosk.demo_devices, which the app and the
# stand-alone self-test use to serve devices whose driver is "sim").
LAUNCHERS = ("kiosk.platform.simulator.launcher", "kiosk.demo_devices")

# importer -> imported -> reason. The only place where a wrong import is tolerated.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("kiosk.screens.camera_login", "kiosk.hardware.qr_decode"):
        "the login screen runs the QR decoder itself; the decoding moves into the device hub (issue 15)",
}


@dataclass(frozen=True)
class Violation:
    importer: str
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported}: {self.rule}"


def layer_of(module: str) -> tuple[int, str] | None:
    if module == "kiosk":
        return LAYERS["kiosk"]
    parts = module.split(".")
    for n in range(len(parts), 1, -1):
        hit = LAYERS.get(".".join(parts[:n]))
        if hit is not None:
            return hit
    return None


def is_simulator(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return (
        last.endswith("_sim")
        or module == "kiosk.sim_people"
        or module == "kiosk.platform.simulator"
        or module.startswith("kiosk.platform.simulator.")
    )


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str) -> set[str]:
    """Every ``kiosk`` module ``path`` imports, anywhere in the file.

    ``from kiosk.x import y`` counts as ``kiosk.x.y`` when ``y`` is a module of
    the tree, else as ``kiosk.x``; the caller resolves that.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
    return {m for m in found if m == "kiosk" or m.startswith("kiosk.")}


def check_tree(root: Path) -> tuple[list[Violation], list[str]]:
    """``(violations, unplaced modules)`` for the ``kiosk`` package under ``root``."""
    files = {module_name(p, root): p for p in sorted((root / "kiosk").rglob("*.py"))}
    violations: list[Violation] = []
    unplaced = [m for m in files if layer_of(m) is None]
    for importer, path in files.items():
        src = layer_of(importer)
        if src is None:
            continue
        imported_modules = {m for m in imports_of(path, importer) if m in files}
        for imported in sorted(imported_modules):
            if any(other.startswith(imported + ".") for other in imported_modules):
                continue  # `from kiosk.screens import menu`: report the module, not its package
            if imported not in files:  # `from kiosk.x import name`: the name is not a module
                continue
            if imported == importer or importer.startswith(imported + "."):
                continue  # a package's own __init__ (parents run first anyway)
            dst = layer_of(imported)
            if dst is None:
                continue
            rule = None
            if dst[0] > src[0]:
                rule = f"{src[1]} (rank {src[0]}) imports up into {dst[1]} (rank {dst[0]})"
            elif dst[0] == src[0] and dst[1] != src[1]:
                rule = f"{src[1]} imports its sibling {dst[1]}"
            elif src[1] == "screens" and dst[1] in SCREENS_MUST_NOT_REACH:
                rule = f"a screen reaches around the hub into {dst[1]}"
            elif is_simulator(imported) and imported not in LAUNCHERS and not (
                is_simulator(importer) or importer in LAUNCHERS or src[1] == "commands"
            ):
                rule = "production code imports a simulator (only the demo launcher may)"
            if rule:
                violations.append(Violation(importer, imported, rule))
    return violations, unplaced


@functools.cache
def _repository() -> tuple[list[Violation], list[str]]:
    return check_tree(ROOT)  # parsed once for the three tests below


def test_every_module_has_a_layer() -> None:
    _, unplaced = _repository()
    assert unplaced == [], f"place these modules in LAYERS: {unplaced}"


def test_imports_only_point_down() -> None:
    violations, _ = _repository()
    unexpected = [str(v) for v in violations if (v.importer, v.imported) not in KNOWN_EXCEPTIONS]
    assert unexpected == [], "imports against the layers:\n" + "\n".join(unexpected)


def test_known_exceptions_are_still_real() -> None:
    violations, _ = _repository()
    found = {(v.importer, v.imported) for v in violations}
    stale = [f"{a} -> {b}" for (a, b) in KNOWN_EXCEPTIONS if (a, b) not in found]
    assert stale == [], "fixed, remove from KNOWN_EXCEPTIONS: " + ", ".join(stale)


def seam_violations(root: Path) -> list[str]:
    """Imports between the flow engine's modules (FLOW_SEAMS) that do not point down."""
    out = []
    for importer, rank in FLOW_SEAMS.items():
        path = root.joinpath(*importer.split(".")).with_suffix(".py")
        if not path.exists():
            continue
        for imported in sorted(imports_of(path, importer) & set(FLOW_SEAMS)):
            if imported != importer and FLOW_SEAMS[imported] >= rank:
                out.append(f"{importer} -> {imported}")
    return out


def test_flow_engine_seams_point_down() -> None:
    assert all((ROOT / "kiosk" / "flows" / f"{m.rsplit('.', 1)[1]}.py").exists() for m in FLOW_SEAMS)
    assert seam_violations(ROOT) == []


@pytest.mark.parametrize(("module", "body"), [
    ("kiosk.flows.step", "def f():\n    from kiosk.flows.engine import ServiceFlow\n"),  # the model knows no mode
    ("kiosk.flows.enquiry", "from kiosk.flows import submission\n"),  # modes are siblings
    ("kiosk.flows.engine", "from kiosk.flows.driver import drive\n"),  # the driver sits on top
])
def test_seam_checker_catches_a_wrong_import(tmp_path: Path, module: str, body: str) -> None:
    _write(tmp_path, module, body)
    assert len(seam_violations(tmp_path)) == 1


def _write(root: Path, module: str, body: str) -> None:
    path = root.joinpath(*module.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in [path.parent, *path.parent.parents]:
        if parent == root:
            break
        (parent / "__init__.py").touch()
    path.write_text(body, encoding="utf-8")


@pytest.fixture
def clean_tree(tmp_path: Path) -> Path:
    """A small kiosk tree whose imports all point down."""
    _write(tmp_path, "kiosk.core.idnumber", "")
    _write(tmp_path, "kiosk.hardware.printer", "from kiosk.core import idnumber\n")
    _write(tmp_path, "kiosk.hardware.printer_sim", "from kiosk.hardware.printer import x\n")
    _write(tmp_path, "kiosk.platform.adapter", "import kiosk.core.idnumber\n")
    _write(tmp_path, "kiosk.platform.simulator.launcher", "from .app import y\n")
    _write(tmp_path, "kiosk.platform.simulator.app", "")
    _write(tmp_path, "kiosk.flows.engine", "from ..platform.adapter import P\n")
    _write(tmp_path, "kiosk.backend", "from kiosk.platform.simulator.launcher import ensure\n")
    _write(tmp_path, "kiosk.screens.menu", "from kiosk.flows import engine\n")
    _write(tmp_path, "kiosk.app", "from kiosk.screens.menu import M\n")
    _write(tmp_path, "kiosk.commands.sim", "from kiosk.hardware import printer_sim\n")
    return tmp_path


def test_checker_passes_a_clean_tree(clean_tree: Path) -> None:
    assert check_tree(clean_tree) == ([], [])


@pytest.mark.parametrize(
    ("module", "body", "importer", "imported"),
    [
        # a driver reaching up into the screens, inside a function
        ("kiosk.hardware.printer", "def f():\n    from kiosk.screens import menu\n", "kiosk.hardware.printer", "kiosk.screens.menu"),
        ("kiosk.flows.engine", "import kiosk.screens.menu\n", "kiosk.flows.engine", "kiosk.screens.menu"),
        ("kiosk.platform.adapter", "from kiosk.flows.engine import E\n", "kiosk.platform.adapter", "kiosk.flows.engine"),
        ("kiosk.core.idnumber", "from ..app import A\n", "kiosk.core.idnumber", "kiosk.app"),
        ("kiosk.hardware.printer", "from kiosk.platform import adapter\n", "kiosk.hardware.printer", "kiosk.platform.adapter"),
        ("kiosk.screens.menu", "from kiosk.hardware import printer\n", "kiosk.screens.menu", "kiosk.hardware.printer"),
        ("kiosk.flows.engine", "from kiosk.hardware.printer_sim import S\n", "kiosk.flows.engine", "kiosk.hardware.printer_sim"),
    ],
)
def test_checker_catches_a_wrong_import(clean_tree: Path, module: str, body: str, importer: str, imported: str) -> None:
    _write(clean_tree, module, body)
    violations, _ = check_tree(clean_tree)
    assert [(v.importer, v.imported) for v in violations] == [(importer, imported)]


def test_checker_names_an_unplaced_module(clean_tree: Path) -> None:
    _write(clean_tree, "kiosk.newthing", "")
    assert check_tree(clean_tree)[1] == ["kiosk.newthing"]


# Inside the platform simulator, the same rule one level down (docs/platform.md): the
# world and the rules, then the contract's bodies, the error body, the state, the ASGI
# layers, the routers, and the app that assembles them. Same-rank imports are allowed.
SIMULATOR = "kiosk.platform.simulator"
SIMULATOR_PARTS: dict[str, int] = {
    "launcher": 0, "data": 0, "items": 0, "essc": 0, "rules": 1, "enquiries": 2,
    "models": 3, "status": 3,
    "errors": 4,
    "state": 5,
    "population": 6, "middleware": 6,
    "routes": 7,
    "app": 8,
    "server": 9,
}


def simulator_violations(root: Path) -> tuple[list[str], list[str]]:
    """``(imports up, unplaced modules)`` inside the simulator package under ``root``."""
    base = root.joinpath(*SIMULATOR.split("."))
    wrong: list[str] = []
    unplaced: list[str] = []
    for path in sorted(base.rglob("*.py")):
        module = module_name(path, root)
        if module == SIMULATOR:
            continue
        part = module[len(SIMULATOR) + 1 :].split(".")[0]
        if part not in SIMULATOR_PARTS:
            unplaced.append(module)
            continue
        parts = {m[len(SIMULATOR) + 1 :].split(".")[0] for m in imports_of(path, module) if m.startswith(SIMULATOR + ".")}
        wrong += [f"{module} -> {SIMULATOR}.{other}" for other in sorted(parts)
                  if SIMULATOR_PARTS.get(other, -1) > SIMULATOR_PARTS[part]]
    return wrong, unplaced


def test_simulator_parts_import_down() -> None:
    assert simulator_violations(ROOT) == ([], [])


def test_simulator_check_catches_a_wrong_import(tmp_path: Path) -> None:
    _write(tmp_path, "kiosk.platform.simulator.models", "def f():\n    from kiosk.platform.simulator.state import S\n")
    _write(tmp_path, "kiosk.platform.simulator.state", "from kiosk.platform.simulator.models import M\n")
    _write(tmp_path, "kiosk.platform.simulator.routes.kiosk", "from kiosk.platform.simulator import state\n")
    _write(tmp_path, "kiosk.platform.simulator.extra", "")
    assert simulator_violations(tmp_path) == (
        ["kiosk.platform.simulator.models -> kiosk.platform.simulator.state"],
        ["kiosk.platform.simulator.extra"],
    )
