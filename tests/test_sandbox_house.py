"""House rules of the sandbox package, read from its source: imports, sizes, names.

The sandbox is imported by the CLI; an import cycle among its modules works only in the order
the package happens to import them, and breaks the day someone imports another module first.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import voucherctl.sandbox

PACKAGE = "voucherctl.sandbox"
SOURCE = Path(voucherctl.sandbox.__file__).parent
MODULES = sorted(SOURCE.glob("*.py"))
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400


def module_name(path: Path) -> str:
    return PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"


def import_time_imports(path: Path) -> set[str]:
    """Sandbox modules a module imports when it is imported (not inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:  # module level only: function bodies run later
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            # `from voucherctl.sandbox import x` needs the package's __init__ to run first.
    return {name for name in found if name == PACKAGE or name.startswith(PACKAGE + ".")}


def test_no_import_cycle_among_sandbox_modules() -> None:
    graph = {module_name(path): import_time_imports(path) for path in MODULES}
    assert PACKAGE + ".spid_routes" in graph

    def cycle_from(start: str, node: str, seen: tuple[str, ...]) -> tuple[str, ...] | None:
        for target in sorted(graph.get(node, ())):
            if target == start:
                return (*seen, target)
            if target not in seen:
                found = cycle_from(start, target, (*seen, target))
                if found:
                    return found
        return None

    cycles = [cycle for name in graph if (cycle := cycle_from(name, name, (name,)))]
    assert cycles == []


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_each_module_imports_first_on_its_own(path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module_name(path)}"], capture_output=True, text=True
    )
    assert (done.returncode, done.stderr) == (0, "")


def test_functions_and_modules_stay_short() -> None:
    too_long = []
    for path in MODULES:
        source = path.read_text(encoding="utf-8")
        if len(source.splitlines()) > MAX_MODULE_LINES:
            too_long.append(path.name)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.name}:{node.name} ({lines} lines)")
    assert too_long == []


def test_no_module_shares_a_name_with_the_real_api_clients() -> None:
    clients = {path.name for path in SOURCE.parent.glob("*.py")}
    assert sorted(path.name for path in MODULES if path.name in clients) == ["__init__.py"]


def test_standard_library_only() -> None:
    allowed_roots = set(sys.stdlib_module_names) | {"voucherctl", "__future__"}
    foreign = set()
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            foreign.update(
                f"{path.name}: {name}" for name in names if name.split(".")[0] not in allowed_roots
            )
            assert all(
                n == PACKAGE or not n.startswith("voucherctl") or n.startswith(PACKAGE + ".")
                for n in names
            ), f"{path.name} imports the CLI side: {names}"
    assert foreign == set()
