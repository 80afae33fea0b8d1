"""docs/architecture.md stays true: its layer table is the import rule, and what it cites exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "rewardlab"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def _layers() -> dict[str, int]:
    """Package or top-level module name → its layer, from the doc's table."""
    out: dict[str, int] = {}
    for layer, names in re.findall(r"^\| (\d) \| (.+?) \|", DOC, flags=re.M):
        for name in re.findall(r"`([a-z_]+)(?:/|\.py)`", names):
            out[name] = int(layer)
    return out


def _unit(module: str) -> str:
    """``rewardlab.data.load`` → ``data``; ``rewardlab.cli`` → ``cli``; ``rewardlab`` → ``rewardlab``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "rewardlab"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("rewardlab"):
            found.add(node.module or "")
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("rewardlab"))
    return found


def test_every_package_and_top_level_module_has_a_layer() -> None:
    layers = _layers()
    units = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    units |= {p.stem for p in SRC.glob("*.py") if p.stem != "__init__"}
    assert sorted(units - set(layers)) == [], "add these to the layer table of docs/architecture.md"


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    layers = _layers()
    upward = []
    for path in SRC.rglob("*.py"):
        unit = _unit(".".join(path.relative_to(SRC.parent).with_suffix("").parts))
        for imported in _imports(path):
            target = _unit(imported)
            if target in ("rewardlab", unit) or unit == "rewardlab":
                continue
            if layers[target] > layers[unit]:
                upward.append(f"{path.relative_to(ROOT)} (layer {layers[unit]}) imports {imported} "
                              f"(layer {layers[target]})")
    assert upward == []


def test_cited_tests_and_modules_exist() -> None:
    for file, name in re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", DOC):
        assert re.search(rf"^def {name}\(", (ROOT / file).read_text(encoding="utf-8"), flags=re.M), (file, name)
    for file in re.findall(r"`(tests/[\w/]+\.py)`", DOC):
        assert (ROOT / file).is_file(), file
    table = DOC[DOC.index("## Invariants"):DOC.index("## A run directory")]
    for module in re.findall(r"`((?:[a-z_]+/)?[a-z_]+\.py)`", table):
        if not module.startswith("tests/"):
            assert (SRC / module).is_file(), module


def test_every_invariant_cited_in_the_code_is_in_the_doc() -> None:
    numbers = {int(n) for n in re.findall(r"^\| (\d) \| \*\*", DOC, flags=re.M)}
    cited = set()
    for path in [*SRC.rglob("*.py"), *(ROOT / "docs").glob("*.md")]:
        for group in re.findall(r"invariants? ([\d\-, ]+), docs/architecture\.md", path.read_text(encoding="utf-8")):
            for part in re.findall(r"\d+(?:-\d+)?", group):
                lo, _, hi = part.partition("-")
                cited |= set(range(int(lo), int(hi or lo) + 1))
    assert cited and cited <= numbers
    assert "DESIGN invariant" not in "".join(p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))


def test_run_directory_file_names_are_spelt_only_in_rundir() -> None:
    import rewardlab.rundir as rundir

    names = {getattr(rundir, n) for n in rundir.__all__ if n.isupper() and isinstance(getattr(rundir, n), str)}
    names -= {"model", "data", "proxy", "members"}  # also ordinary words and JSON keys; checked as paths below
    found = []
    for path in SRC.rglob("*.py"):
        if path.name == "rundir.py" or path.name == "local.py":  # local.py: the backbone wheel's own model/ folder
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in names:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
            if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Constant)
                    and node.right.value in ("model", "members", "proxy")):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} / {node.right.value!r}")
    assert found == [], "use the rundir constants"


def _module_graph() -> dict[str, set[str]]:
    """Module → the rewardlab modules it imports (anywhere in it, lazy imports included).

    ``from package import submodule`` is an edge to the submodule, not to the package's ``__init__``.
    """
    modules = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("rewardlab"):
                subs = {f"{node.module}.{a.name}" for a in node.names} & set(modules)
                graph[name] |= subs or ({node.module} & set(modules))
            elif isinstance(node, ast.Import):
                graph[name] |= {a.name for a in node.names} & set(modules)
    return graph


def test_the_module_import_graph_has_no_cycles() -> None:
    graph = _module_graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if nxt == "rewardlab" or nxt == node:
                continue
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def test_choices_are_defined_once_and_the_cli_and_configs_use_them() -> None:
    import argparse
    from typing import get_args, get_type_hints

    from rewardlab.cli_parser import build_parser
    from rewardlab.data.formats import FORMATS
    from rewardlab.precisions import PRECISIONS
    from rewardlab.serve.config import ServeConfig
    from rewardlab.train.config import DataConfig, EvalConfig, OptimConfig

    subs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for verb in ("eval", "audit", "score", "serve"):
        flags = {f: a for a in subs.choices[verb]._actions for f in a.option_strings}
        assert tuple(flags["--precision"].choices) == PRECISIONS, verb
        if verb != "serve":
            assert [c for c in flags["--format"].choices if c != "rewardbench2"] == ["auto", *FORMATS], verb
    assert get_args(get_type_hints(DataConfig)["format"]) == ("auto", *FORMATS)
    for cls in (OptimConfig, EvalConfig, ServeConfig):
        assert get_args(get_type_hints(cls)["precision"]) == PRECISIONS, cls


def test_every_user_facing_exception_is_in_errors_py_and_drawn_in_its_tree() -> None:
    import rewardlab.errors as errors

    internal = {"RowError", "DuplicateKeyError"}  # signals caught inside rewardlab, named in the docstring
    outside = []
    for path in SRC.rglob("*.py"):
        if path.name == "errors.py" and path.parent == SRC:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_") and node.name not in internal:
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                if any(b.endswith(("Error", "Exception")) or b in ("ServeError", "RewardLabError") for b in bases):
                    outside.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert outside == []
    tree = errors.__doc__ or ""
    classes = [n for n in errors.__all__ if isinstance(getattr(errors, n), type)
               and issubclass(getattr(errors, n), errors.RewardLabError)]
    assert len(classes) >= 15
    for name in [*classes, *internal]:
        assert name in tree, name
