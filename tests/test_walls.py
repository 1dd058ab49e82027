"""The rooms' walls: what each folder may import, no import cycles, no function-local import outside the CLI.

The imports are read from the source (ast), function bodies included, so a lazy import counts like any other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "intents", "storage")
IO_LIBRARIES = ("flask", "flask_wtf", "werkzeug", "sqlalchemy", "alembic", "requests", "urllib3", "wechatpy",
                "redis", "psycopg", "apscheduler", "socket", "http", "urllib.request", "subprocess")
DOMAIN = ("bot.serviceloop", "bot.people", "bot.community")
EDGES = ("bot.channels", "bot.web", "bot.inbox", "bot.admin", "bot.cli", "bot.worker", "bot.devtools")


@dataclass(frozen=True)
class Wall:
    """Modules under `room` may not import anything under one of `forbidden` (unless it is under `allowed`)."""

    room: str
    forbidden: tuple[str, ...]
    why: str
    allowed: tuple[str, ...] = ()


WALLS: tuple[Wall, ...] = (
    Wall("bot.dialogue", ("bot", "storage", *IO_LIBRARIES), "the dialogue is pure: intents/ and itself only",
         allowed=("bot.dialogue",)),
    Wall("intents", ("bot", "storage", *IO_LIBRARIES), "intents/ is pure language understanding"),
    Wall("bot.serviceloop.lifecycle", ("bot", "storage", *IO_LIBRARIES), "the order lifecycle is a pure table",
         allowed=("bot.errors",)),
    Wall("bot.people.stars", ("bot", "storage", *IO_LIBRARIES), "star levels are pure rules"),
    Wall("bot.community.eventrule", ("bot", "storage", *IO_LIBRARIES), "the street-event day rule is pure"),
    *(Wall(room, ("flask", "flask_wtf", "werkzeug", *EDGES), "domain rooms know nothing of the web, WeChat or chat")
      for room in DOMAIN),
    Wall("bot.channels", ("flask", "flask_wtf", "werkzeug", *DOMAIN, "bot.web", "bot.inbox", "bot.admin", "bot.cli",
                          "bot.worker", "bot.devtools"), "channels speak WeChat's protocol, not the domain"),
    Wall("storage", ("bot",), "storage/ never imports the bot"),
    Wall("bot.outbox", ("bot.channels", "bot.worker", "requests", "wechatpy"), "the outbox only enqueues"),
    *(Wall(f"bot.{root}", ("bot.",), "the root's foundations import no room", allowed=("bot.errors",))
      for root in ("config", "clock", "errors", "hubsettings")),
    *(Wall(room, ("bot.devtools",), "production code never imports the developer tools")
      for room in ("bot.dialogue", "bot.channels", "bot.web", "bot.inbox", "bot.admin", "bot.worker", *DOMAIN,
                   "bot.app", "bot.services", "bot.outbox", "bot.hubs")),
)
# Function-local imports keep `leifeng --help` fast in the CLI; anywhere else they hide an import.
LAZY_IMPORTS_ALLOWED = ("bot.cli",)


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    local: bool  # inside a function body


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str, source: str, is_package: bool = False) -> list[Import]:
    tree = ast.parse(source)
    found: list[Import] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                found.extend(Import(module, alias.name, child.lineno, local) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(module, child, is_package)
                for alias in child.names:
                    # `from bot.dialogue import ordering` imports the submodule bot.dialogue.ordering
                    found.append(Import(module, f"{base}.{alias.name}" if base else alias.name, child.lineno, local))
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                continue  # imports for the type checker only: never run
            visit(child, inner)

    visit(tree, False)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def project_imports() -> list[Import]:
    found: list[Import] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            found.extend(imports_of(module_name(path), path.read_text(encoding="utf-8"), path.name == "__init__.py"))
    return found


def under(name: str, prefix: str) -> bool:
    prefix = prefix.rstrip(".")
    return name == prefix or name.startswith(prefix + ".")


def wall_breaches(found: Iterable[Import], walls: Iterable[Wall] = WALLS) -> list[str]:
    breaches = []
    for imp in found:
        for wall in walls:
            if not under(imp.source, wall.room):
                continue
            if any(under(imp.target, f) for f in wall.forbidden) and not any(under(imp.target, a)
                                                                               for a in wall.allowed):
                breaches.append(f"{imp.source}:{imp.line} imports {imp.target} ({wall.why})")
    return breaches


def lazy_imports(found: Iterable[Import]) -> list[str]:
    return [f"{imp.source}:{imp.line} imports {imp.target} inside a function"
            for imp in found if imp.local and under(imp.target, "bot") or imp.local and under(imp.target, "storage")
            if not any(under(imp.source, allowed) for allowed in LAZY_IMPORTS_ALLOWED)]


def module_graph(found: Iterable[Import], modules: set[str]) -> dict[str, set[str]]:
    """Edges between the project's own modules (an import of a name inside a module counts for the module)."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for imp in found:
        target = imp.target
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != imp.source:
            graph[imp.source].add(target)
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


@pytest.fixture(scope="module")
def found() -> list[Import]:
    return project_imports()


def test_every_room_keeps_its_walls(found: list[Import]) -> None:
    assert wall_breaches(found) == []


def test_there_are_no_import_cycles(found: list[Import]) -> None:
    modules = {imp.source for imp in found} | {module_name(p) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
                                               if "migrations" not in p.parts}
    assert cycles(module_graph(found, modules)) == []


def test_no_function_local_imports_of_the_project_outside_the_cli(found: list[Import]) -> None:
    assert lazy_imports(found) == []


def test_every_room_says_its_rule() -> None:
    rooms = [p for p in (ROOT / "bot").iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    assert len(rooms) >= 10
    for room in rooms:
        doc = ast.get_docstring(ast.parse((room / "__init__.py").read_text(encoding="utf-8")))
        assert doc, f"{room.name}/__init__.py has no docstring saying the room's rule"


# -- the checks themselves fail when a rule is broken -------------------------------------------------


def test_a_dialogue_module_importing_sqlalchemy_is_a_breach() -> None:
    src = "from __future__ import annotations\nfrom sqlalchemy import select\nfrom intents.matcher import Matcher\n"
    breaches = wall_breaches(imports_of("bot.dialogue.ordering", src))
    assert breaches == ["bot.dialogue.ordering:2 imports sqlalchemy.select (the dialogue is pure: intents/ and itself "
                        "only)"]


def test_a_lazy_import_inside_the_dialogue_is_still_a_breach() -> None:
    src = "def f():\n    from bot.serviceloop import orders\n    return orders\n"
    found = imports_of("bot.dialogue.step", src)
    assert wall_breaches(found) and lazy_imports(found) == [
        "bot.dialogue.step:2 imports bot.serviceloop.orders inside a function"]


def test_domain_importing_a_channel_and_storage_importing_the_bot_are_breaches() -> None:
    found = [*imports_of("bot.serviceloop.orders", "from bot.channels.wechat_client import post_robot\n"),
             *imports_of("storage.models", "import bot.clock\n")]
    assert len(wall_breaches(found)) == 2


def test_a_cycle_is_found_however_it_is_made() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    found = [*imports_of("bot.x", "from bot import y\n"), *imports_of("bot.y", "def f():\n    import bot.x\n")]
    assert cycles(module_graph(found, {"bot.x", "bot.y"})) == [["bot.x", "bot.y"]]
