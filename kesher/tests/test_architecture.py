"""The house rules, checked on every run (docs/architecture.md): the floors, no import circles, no module
over 1,000 lines.

The import graph comes from grimp, which reads every `import` statement, those inside functions too: a
lazy import is an import. Imports under `if TYPE_CHECKING:` are annotations only and do not count.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]

# The floors, lowest first. A module may import its own floor's package and any lower floor, never a
# higher one. Packages sharing a floor are peers and do not import each other either.
FLOORS: tuple[frozenset[str], ...] = (
    frozenset({"core"}),
    frozenset({"brands"}),
    frozenset({"members"}),
    frozenset({"activity"}),
    frozenset({"loyalty"}),
    frozenset({"campaigns"}),  # messaging: the community's digests and the magazine are sent through it
    frozenset({"community", "magazine"}),
    frozenset({"reviews", "ideas", "surveys"}),  # feedback: contributions count in points and reputation
    frozenset({"service"}),  # the inbox: a detractor's answer, a community post or a mention opens a case
    frozenset({"insights", "customers", "privacy", "webhooks", "listening", "recs"}),  # the whole customer
)
# The edges sit above every floor and may import any of them: the whole of these packages and modules,
EDGE_PACKAGES = frozenset({"api", "web", "cli", "demo"})
# and, inside each domain, the modules (or packages) with these names, plus admin_*.py helpers.
EDGE_PARTS = frozenset({"api", "views", "urls", "admin", "forms", "management", "templatetags", "benchmark"})
EDGE = len(FLOORS)
MAX_LINES = 1000


def build(*packages: str) -> grimp.ImportGraph:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return grimp.build_graph(*packages, cache_dir=None, exclude_type_checking_imports=True)


def floor_of(module: str, *, root: str = "kesher") -> tuple[int, str] | None:
    """(floor number, package) of a module; None for what the rule does not cover: tests, migrations
    and the root package. A package on no floor is refused, so a new domain is placed on purpose."""
    parts = module.split(".")
    if parts[0] != root or len(parts) == 1:
        return None
    if "tests" in parts or "migrations" in parts or parts[1] == "conftest":
        return None
    package = parts[1]
    if package in EDGE_PACKAGES:
        return EDGE, package
    if any(part in EDGE_PARTS or part.startswith("admin_") for part in parts[2:]):
        return EDGE, package
    for number, floor in enumerate(FLOORS):
        if package in floor:
            return number, package
    raise AssertionError(
        f"{root}.{package} is on no floor: add it to FLOORS here and to docs/architecture.md's floors"
    )


def layering_violations(graph: grimp.ImportGraph, *, root: str = "kesher") -> list[tuple[str, str, str]]:
    """(importer, imported, what went wrong, by line) for each import from a floor to a higher one or
    to a peer on its own floor."""
    found = []
    for importer in sorted(graph.modules):
        low = floor_of(importer, root=root)
        if low is None or low[0] == EDGE:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            high = floor_of(imported, root=root)
            if high is None or high[1] == low[1] or high[0] < low[0]:
                continue
            relation = "a peer on its floor" if high[0] == low[0] else "a higher floor"
            lines = "; ".join(
                f"line {detail['line_number']}: {detail['line_contents']}"
                for detail in graph.get_import_details(importer=importer, imported=imported)
            )
            found.append((importer, imported, f"{importer} imports {imported} ({relation}) — {lines}"))
    return found


def import_cycles(graph: grimp.ImportGraph) -> list[frozenset[str]]:
    """Each set of modules that import one another round a circle (strongly connected, Tarjan's)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[frozenset[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(frozenset(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


def long_modules(paths: Iterable[Path]) -> dict[str, int]:
    lengths = {}
    for path in paths:
        if "migrations" in path.parts:
            continue
        with path.open(encoding="utf-8") as source:
            lines = sum(1 for _line in source)
        if lines > MAX_LINES:
            lengths[path.relative_to(ROOT).as_posix()] = lines
    return lengths


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return build("kesher", "benchmarks")


def test_no_floor_imports_a_higher_floor_or_a_peer(graph: grimp.ImportGraph) -> None:
    found = layering_violations(graph)
    broken = [message for _importer, _imported, message in found]
    assert not broken, "imports against the floors (docs/architecture.md):\n" + "\n".join(broken)


def test_no_import_cycles_in_kesher_or_benchmarks(graph: grimp.ImportGraph) -> None:
    cycles = import_cycles(graph)
    broken = [sorted(cycle) for cycle in cycles]
    assert not broken, "modules importing each other round a circle:\n" + "\n".join(map(str, broken))


def test_no_module_over_a_thousand_lines() -> None:
    lengths = long_modules((ROOT / "kesher").rglob("*.py"))
    assert not lengths, f"modules over {MAX_LINES} lines (split them by sub-domain): {lengths}"


# The checks themselves, on a small package written for the purpose: they see an import inside a
# function, name it by line, and find a circle.


@pytest.fixture
def house(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> grimp.ImportGraph:
    files = {
        "house/__init__.py": "",
        "house/core/__init__.py": "",
        "house/core/money.py": "def total():\n    from house.community import posts\n    return posts\n",
        "house/community/__init__.py": "",
        "house/community/posts.py": "from house.core import money\nfrom house.magazine import issues\n",
        "house/community/api.py": "from house.web import pages\n",
        "house/magazine/__init__.py": "",
        "house/magazine/issues.py": "from house.magazine import layout\n",
        "house/magazine/layout.py": "from house.magazine import issues\n",
        "house/web/__init__.py": "",
        "house/web/pages.py": "from house.community import posts\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    return grimp.build_graph("house", cache_dir=None, exclude_type_checking_imports=True)


def test_the_check_names_lazy_upward_and_peer_imports_by_line(house: grimp.ImportGraph) -> None:
    found = {
        (importer, imported): message
        for importer, imported, message in layering_violations(house, root="house")
    }
    assert set(found) == {
        ("house.core.money", "house.community.posts"),
        ("house.community.posts", "house.magazine.issues"),
    }
    assert found[("house.core.money", "house.community.posts")] == (
        "house.core.money imports house.community.posts (a higher floor) — "
        "line 2: from house.community import posts"
    )
    assert "(a peer on its floor)" in found[("house.community.posts", "house.magazine.issues")]


def test_the_check_finds_a_circle(house: grimp.ImportGraph) -> None:
    assert set(import_cycles(house)) == {
        frozenset({"house.magazine.issues", "house.magazine.layout"}),
        frozenset({"house.core.money", "house.community.posts"}),
    }
