"""The package's modules import each other without cycles (function-level imports included).

``maps/mapper`` and ``io/building_files`` once imported each other; the ``Building`` data model
between them broke that. This walks every import statement, so a cycle cannot come back hidden
inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import multifloor_slam

PACKAGE = Path(multifloor_slam.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix('').parts)
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def _import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob('*.py')}

    def resolve(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition('.')[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        package = module if path.name == '__init__.py' else module.rpartition('.')[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ''
                if node.level:
                    pkg = package.split('.')[: len(package.split('.')) - node.level + 1]
                    base = '.'.join([*pkg, base] if base else pkg)
                names = [base, *(f'{base}.{a.name}' for a in node.names)]
            else:
                continue
            for name in names:
                target = resolve(name)
                if target and target != module:
                    graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}) == [['a', 'b', 'c']]


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = _import_graph()
    assert {'multifloor_slam.maps.mapper', 'multifloor_slam.io.building_files'} <= set(graph)
    assert _cycles(graph) == []


def test_building_files_work_on_the_data_model_not_the_mapper() -> None:
    graph = _import_graph()
    assert 'multifloor_slam.maps.mapper' not in graph['multifloor_slam.io.building_files']
    assert 'multifloor_slam.maps.building' in graph['multifloor_slam.io.building_files']
    maps = [m for m in graph if m.startswith('multifloor_slam.maps.')]
    assert not [m for m in maps if 'multifloor_slam.io.building_files' in graph[m]]
