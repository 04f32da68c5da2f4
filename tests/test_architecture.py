"""The package's shape: stages import only downwards, no import cycle, no module over 500
lines, every difference the comparison yields has a planner handler, and a rule is `fixable`
exactly when the planner repairs what it reports.

Imports are read with `ast` from every module under src/, wherever they sit (top level,
inside functions, under TYPE_CHECKING): a lazy import is still a dependency."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from schemalock.compare import differences as d
from schemalock.fix.plan import HANDLERS, REPAIRED
from schemalock.rules import RULES, Rule

SOURCE = Path(__file__).resolve().parents[1] / "src"

# The stages in the order data flows; a module may import its own stage and those before it.
STAGES: tuple[tuple[str, ...], ...] = (
    ("schemalock", "schemalock.errors", "schemalock.durations", "schemalock.files"),
    ("schemalock.model",),
    ("schemalock.lock",),
    ("schemalock.db",),
    ("schemalock.introspect",),
    ("schemalock.compare",),
    ("schemalock.check.findings",),
    ("schemalock.usersql",),
    ("schemalock.probe",),
    ("schemalock.rules",),
    ("schemalock.check",),
    ("schemalock.guard",),
    ("schemalock.render",),
    ("schemalock.fix",),
    ("schemalock.app",),
    ("schemalock.cli", "schemalock.__main__"),
)
LARGEST_MODULE = 500


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SOURCE / "schemalock").rglob("*.py")):
        if "templates" in path.parts:  # copied into a user's project, never imported here
            continue
        parts = list(path.relative_to(SOURCE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path) -> set[str]:
    """The schemalock modules `module` imports (a package's name when that is what it names)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return {name for name in found if name in MODULES}


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _stage(module: str) -> int:
    """The stage a module belongs to: the longest prefix that names one."""
    best, rank = -1, -1
    for index, prefixes in enumerate(STAGES):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    assert rank >= 0, f"{module} belongs to no stage: add it to STAGES"
    return rank


def test_every_module_belongs_to_a_stage() -> None:
    for module in MODULES:
        _stage(module)


def test_stages_import_only_the_stages_before_them() -> None:
    wrong = [
        f"{module} (stage {_stage(module)}) imports {imported} (stage {_stage(imported)})"
        for module, imported_modules in GRAPH.items()
        for imported in sorted(imported_modules)
        if _stage(imported) > _stage(module)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle() -> None:
    """Between modules (a package's __init__ importing its own submodules to re-export them
    is the one edge allowed back: the submodules never import the package's names)."""
    edges = {
        module: {m for m in imported if not module.startswith(m + ".")}
        for module, imported in GRAPH.items()
    }
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                cycle = [*path[path.index(target) :], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)


def test_no_module_is_over_500_lines() -> None:
    long = {
        module: count
        for module, path in MODULES.items()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > LARGEST_MODULE
    }
    assert not long, long


def _difference_types() -> list[type[d.Difference]]:
    """Every concrete difference the comparison can yield (the abstract bases excluded)."""
    bases = {d.Difference, d.TableDifference, d.ColumnPairDifference}
    return [
        kind
        for _, kind in inspect.getmembers(d, inspect.isclass)
        if issubclass(kind, d.Difference) and kind not in bases
    ]


def test_every_difference_has_a_planner_handler() -> None:
    missing = [kind.__name__ for kind in _difference_types() if kind not in HANDLERS]
    assert not missing, f"no handler in schemalock.fix.plan for {missing}"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_fixable_means_the_planner_repairs_what_the_rule_reports(rule: type[Rule]) -> None:
    repaired = [kind.__name__ for kind in rule.repaired_by if kind in REPAIRED]
    assert rule.fixable == bool(repaired), (
        f"{rule.code} {rule.name}: fixable={rule.fixable}, but the planner repairs "
        f"{repaired or 'none'} of {[k.__name__ for k in rule.repaired_by]}"
    )
