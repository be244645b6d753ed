"""The house rules, checked on the package's source so that they stay true as it grows.

Modules stay readable in one sitting, functions fit on a screen, modules do not import each
other in circles at import time, API clients are never typed ``Any``, and every document the
code cites exists in the repository (with the heading it names).
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "voucherctl"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


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


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_is_at_most_400_lines(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{name} has {lines} lines"


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


def _import_time_imports(name: str, tree: ast.Module) -> set[str]:
    """Package modules ``name`` imports when it is imported (not in functions or TYPE_CHECKING)."""
    found: set[str] = set()
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for inner in ast.walk(node) if isinstance(node, ast.If | ast.Try) else [node]:
            if isinstance(inner, ast.Import):
                found.update(alias.name for alias in inner.names)
            elif isinstance(inner, ast.ImportFrom):
                base = inner.module or ""
                if inner.level:
                    base = ".".join(
                        [*package.split(".")[: len(package.split(".")) - inner.level + 1], base]
                    ).strip(".")
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in inner.names)
    return {module for module in found if module in MODULES and module != name}


def test_no_import_cycles_at_import_time() -> None:
    graph = {name: _import_time_imports(name, _tree(path)) for name, path in MODULES.items()}
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


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
        assert "SPEC" not in text, f"{path.name} cites SPEC, which the repository does not have"
        for document, anchor in CITATION.findall(text):
            target = ROOT / document
            if not target.is_file():
                missing.append(f"{path.name}: {document}")
            elif anchor and anchor[1:] not in _anchors(target):
                missing.append(f"{path.name}: {document}{anchor}")
    assert not missing
