"""No two files of openiop import each other, directly or round a longer loop (issue 15 point 7).

Every import counts: at module level, inside a function, under `if TYPE_CHECKING:`. A loop found
is named file by file; break it by moving what both need below both (a selector, a domain module,
a protocol), or by splitting the called module so the part a lower app calls builds on nothing
that calls back (admissions.services.waitlist_offers, which programs' enrollment service calls).
The layers between apps are checked by `lint-imports` (pyproject.toml, [tool.importlinter]).
"""

from __future__ import annotations

import grimp


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def _loop(graph: grimp.ImportGraph, group: list[str]) -> str:
    """One loop through the group, written a -> b -> ... -> a."""
    start = group[0]
    members = set(group)
    for nxt in sorted(graph.find_modules_directly_imported_by(start) & members):
        chain = graph.find_shortest_chain(importer=nxt, imported=start)
        if chain:
            return " -> ".join((start, *chain))
    return ", ".join(group)


def test_no_import_cycle_between_files() -> None:
    graph = grimp.build_graph("openiop", exclude_type_checking_imports=False, cache_dir=None)
    loops = [_loop(graph, group) for group in _cycles(graph)]
    assert not loops, "files that import each other:\n" + "\n".join(loops)


def test_cycle_finder_finds_a_loop_and_names_it() -> None:
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.d"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    graph.add_import(importer="pkg.d", imported="pkg.a")
    assert _cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
    assert _loop(graph, ["pkg.a", "pkg.b", "pkg.c"]) == "pkg.a -> pkg.b -> pkg.c -> pkg.a"
