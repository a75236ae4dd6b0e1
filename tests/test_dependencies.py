"""Every package the code imports is declared where it is installed from: pyproject.toml (its
dependencies or an extra), scripts/no-deps-requirements.txt, or the Pi image's Debian packages."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "kiosk", "sync", "firmware_bridge")
#: Imported modules whose distribution is not found by name in this environment's metadata.
PROVIDED_BY = {
    "dlib": "dlib-bin",  # installs the `dlib` module under another distribution name
}
#: On the Pi only, from Raspberry Pi OS's packages (image_build/stage-presensi/00-presensi/01-packages).
DEBIAN_ON_THE_PI = {"picamera2": "python3-picamera2", "libcamera": "python3-libcamera"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    for line in (ROOT / "scripts" / "no-deps-requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            requirements.append(line)
    return {normalise(re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0]) for r in requirements}


def imported_modules() -> set[str]:
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - set(PACKAGES) - {"__future__"}


def test_every_imported_package_is_declared() -> None:
    distributions = metadata.packages_distributions()
    wanted = declared()
    missing = []
    for module in sorted(imported_modules()):
        if module in DEBIAN_ON_THE_PI:
            packages = (ROOT / "image_build/stage-presensi/00-presensi/01-packages").read_text(encoding="utf-8")
            assert DEBIAN_ON_THE_PI[module] in packages.split(), (
                f"{module}: add {DEBIAN_ON_THE_PI[module]} to the image's packages"
            )
            continue
        names = [PROVIDED_BY[module]] if module in PROVIDED_BY else distributions.get(module, [module])
        if not {normalise(n) for n in names} & wanted:
            missing.append(f"{module} (from {', '.join(names)})")
    assert not missing, "declare in pyproject.toml (a dependency or an extra): " + "; ".join(missing)


def test_nothing_declared_is_left_unused() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {normalise(re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0]) for r in project["dependencies"]}
    distributions = metadata.packages_distributions()
    used = {normalise(d) for module in imported_modules() for d in distributions.get(module, [])}
    used |= {normalise(PROVIDED_BY[m]) for m in imported_modules() if m in PROVIDED_BY}
    #: Declared for what the code imports through them, or needs at run time without importing.
    indirect = {
        "tzdata",  # zoneinfo's data where the OS has none
        "face-recognition-models",  # found by face_recognition and by core.templates.embedder_ids
        "setuptools",  # face_recognition_models imports pkg_resources
        "python-multipart",  # FastAPI reads forms with it
        "jinja2",  # FastAPI's Jinja2Templates renders the pages with it
    }
    unused = sorted(runtime - used - indirect)
    assert not unused, f"declared but never imported: {unused}; drop them from pyproject.toml"
