"""The layout holds: the import contracts, the sync client's light imports, late imports that say
why (docs/architecture.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "kiosk", "sync", "firmware_bridge")


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_the_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    assert lint_imports.exists(), "import-linter is a dev dependency: ./dev setup installs it"
    done = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_the_sync_client_loads_neither_cv2_nor_numpy() -> None:
    probe = (
        "import sys, sync.client, sync.service, sync.provision\n"
        "print(sorted(m for m in ('cv2', 'numpy', 'dlib', 'face_recognition', 'onnxruntime') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def late_imports_without_a_reason(path: Path) -> list[str]:
    """Imports inside functions with no comment on their line, above them, or above the run of
    imports they belong to."""
    lines = path.read_text(encoding="utf-8").splitlines()

    def commented(node: ast.stmt) -> bool:
        return "#" in lines[node.lineno - 1] or lines[node.lineno - 2].strip().startswith("#")

    bare = []
    for function in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for block in ast.walk(function):
            for field in ("body", "orelse", "finalbody", "handlers"):
                statements = getattr(block, field, None)
                if not isinstance(statements, list):
                    continue
                explained = False
                for statement in statements:
                    if not isinstance(statement, ast.Import | ast.ImportFrom):
                        explained = False
                        continue
                    explained = explained or commented(statement)
                    if not explained:
                        bare.append(f"{path.relative_to(ROOT)}:{statement.lineno}: {lines[statement.lineno - 1].strip()}")
    return bare


def test_imports_inside_functions_say_why() -> None:
    bare = [line for path in sources() for line in late_imports_without_a_reason(path)]
    assert not bare, "import at module level, or say why not in a comment:\n" + "\n".join(sorted(set(bare)))


#: The web layer: the unit's pages and screen, and the reference server (its app, routers and back office).
WEB_LAYER = ("kiosk/web", "sync/server")
LONGEST_WEB_FUNCTION = 80


def test_no_web_function_over_80_lines() -> None:
    """Routes live in APIRouters as module-level functions, not closures in one long install()
    (docs/architecture.md); a long check or computation is split into named steps."""
    long = []
    for folder in WEB_LAYER:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
                    length = node.end_lineno - node.lineno + 1
                    if length > LONGEST_WEB_FUNCTION:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.name} is {length} lines")
    assert not long, f"functions over {LONGEST_WEB_FUNCTION} lines in the web layer:\n" + "\n".join(long)


LONGEST_MODULE = 600


def test_no_module_over_600_lines() -> None:
    """A module that grows past this is split by domain (as work.py became employees.py and
    work.py, and the message catalogue a package of tables by reader)."""
    long = [
        f"{path.relative_to(ROOT)} is {n} lines"
        for path in sources()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > LONGEST_MODULE
    ]
    assert not long, f"modules over {LONGEST_MODULE} lines:\n" + "\n".join(long)
