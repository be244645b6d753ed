"""The house rules, checked on the package's source so that they stay true as it grows.

Folders name layers and layers only call down (docs/architecture.md), the package root holds
only the entry points, every package says what it owns, functions fit on a screen, modules
never import each other in circles (lazy imports included), API clients are never typed
``Any``, and every document the code cites exists in the repository (with the heading it names).
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "voucherctl"
MAX_FUNCTION_LINES = 60
# The layers, top to bottom: a module may import its own layer and those below it, never one
# above (docs/architecture.md#layers). ``sandbox`` is the emulator, a program of its own beside
# the stack: only the layers that start or reset it import it, and it imports only ``core``.
# ``schemas`` is data: the published JSON Schemas, which the schema command and the docs read.
LAYERS = (
    "commands",
    "cli",
    "bulk",
    "changes",
    "ui",
    "api",
    "secrets",
    "storage",
    "core",
    "schemas",
)
MAY_IMPORT_SANDBOX = {"commands", "cli"}
ENTRY_POINTS = {"__init__.py", "__main__.py", "app.py", "reference.py"}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


MODULES = _modules()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_the_package_root_holds_only_the_entry_points() -> None:
    loose = {path.name for path in PACKAGE.glob("*.py")} - ENTRY_POINTS
    assert not loose, f"modules outside a layer package: {sorted(loose)}"


def test_every_package_says_what_it_owns() -> None:
    silent = []
    for init in sorted(PACKAGE.rglob("__init__.py")):
        docstring = ast.get_docstring(_tree(init)) or ""
        if len(docstring.split()) < 8:
            silent.append(str(init.relative_to(ROOT)))
    assert not silent, f"packages whose __init__ docstring does not say what they own: {silent}"


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


@pytest.mark.parametrize("name", sorted(MODULES))
def test_functions_are_at_most_60_lines(name: str) -> None:
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in _functions(_tree(MODULES[name]))
        if node.end_lineno and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{name}: {', '.join(long)}"


def _imports(name: str, tree: ast.Module) -> set[str]:
    """Package modules ``name`` imports anywhere: at the top, in functions, under TYPE_CHECKING."""
    found: set[str] = set()
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                ).strip(".")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: _imports(name, _tree(path)) for name, path in MODULES.items()}


def test_no_import_cycles_of_any_kind() -> None:
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(GRAPH[node]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (PACKAGE / parts[-1]).is_dir() else "root"


def test_layers_only_call_down() -> None:
    upward = []
    for name, targets in GRAPH.items():
        source = _layer(name)
        for target in targets:
            layer = _layer(target)
            if source == "root" or target == "voucherctl" or layer == source:
                continue  # the entry points import anything; anything may read __version__
            if layer == "sandbox" or source == "sandbox":
                allowed = source in MAY_IMPORT_SANDBOX or (source == "sandbox" and layer == "core")
            else:
                allowed = layer != "root" and LAYERS.index(layer) > LAYERS.index(source)
            if not allowed:
                upward.append(f"{name} -> {target}")
    assert not upward, "imports that go up a layer:\n" + "\n".join(sorted(upward))


def test_no_api_client_is_typed_any() -> None:
    offenders = []
    for name, path in MODULES.items():
        for node in _functions(_tree(path)):
            for arg in [*node.args.args, *node.args.kwonlyargs]:
                annotation = ast.unparse(arg.annotation) if arg.annotation else ""
                if arg.arg in ("client", "api") and annotation in ("", "Any"):
                    offenders.append(f"{name}.{node.name}({arg.arg}: {annotation or 'untyped'})")
    assert not offenders


CITATION = re.compile(r"\b(docs/[\w./-]+\.md)(#[\w-]+)?")


def _anchors(document: Path) -> set[str]:
    anchors = set()
    for line in document.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", title)))
    return anchors


def test_every_cited_document_exists_with_its_heading() -> None:
    missing = []
    for path in [*MODULES.values(), ROOT / "README.md"]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bSPEC\b", text), f"{path.name} cites SPEC, which is not in the repo"
        for document, anchor in CITATION.findall(text):
            target = ROOT / document
            if not target.is_file():
                missing.append(f"{path.name}: {document}")
            elif anchor and anchor[1:] not in _anchors(target):
                missing.append(f"{path.name}: {document}{anchor}")
    assert not missing
