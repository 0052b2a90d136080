"""One name per fixture, found by pytest, never imported: a fixture is defined once in tests/, in a
conftest.py (shared by its package) or in the one test module that uses it; no test module pulls
fixtures in by `import *`, by importing a fixture's name, or by re-exporting it (`x = mod.x`).

Checked with the stdlib `ast` over the files themselves, so nothing needs to be collected or run.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _fixture_name(node: ast.AST) -> str | None:
    """The name a function registers as a fixture (its own, or `name=`), else None."""
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        called = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if called != "fixture":
            continue
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
        return node.name
    return None


def fixture_problems(sources: dict[str, str]) -> list[str]:
    """Everything wrong with the fixtures in `sources` ({path relative to tests/: source})."""
    trees = {path: ast.parse(source, filename=path) for path, source in sources.items()}
    defined: dict[str, list[str]] = defaultdict(list)
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if (name := _fixture_name(node)) is not None:
                defined[name].append(f"{path}:{node.lineno}")

    problems = [
        f"fixture {name!r} is defined {len(places)} times: {', '.join(places)}"
        for name, places in sorted(defined.items())
        if len(places) > 1
    ]
    problems += [
        f"fixture {name!r} is defined in {place}, a helper module: move it to a conftest.py "
        "(helper functions may stay)"
        for name, places in sorted(defined.items())
        for place in places
        if not _may_define_fixtures(Path(place.rsplit(":", 1)[0]).name)
    ]
    for path, tree in trees.items():
        problems += _imported_fixtures(path, tree, set(defined))
    return problems


def _may_define_fixtures(filename: str) -> bool:
    return filename == "conftest.py" or filename.startswith("test_")


def _imported_fixtures(path: str, tree: ast.Module, fixtures: set[str]) -> list[str]:
    """Star imports, imported fixture names and module-level re-exports in one module."""
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    problems.append(f"{path}:{node.lineno}: `from {node.module} import *`")
                elif alias.name in fixtures and (node.module or "").startswith("tests"):
                    problems.append(
                        f"{path}:{node.lineno}: imports the fixture {alias.name!r} "
                        f"from {node.module} (pytest finds it by name)"
                    )
    for node in tree.body:
        value = node.value if isinstance(node, ast.Assign) else None
        if isinstance(value, ast.Attribute) and value.attr in fixtures:
            problems.append(
                f"{path}:{node.lineno}: re-exports the fixture {value.attr!r} "
                "(pytest finds it by name)"
            )
    return problems


def test_every_fixture_has_one_name_and_one_home():
    sources = {
        str(path.relative_to(TESTS)): path.read_text(encoding="utf-8")
        for path in sorted(TESTS.rglob("*.py"))
    }
    assert fixture_problems(sources) == []


def test_the_check_finds_each_kind_of_problem():
    sources = {
        "conftest.py": "import pytest\n\n@pytest.fixture\ndef sandbox():\n    return 1\n",
        "a/test_one.py": "import pytest\n\n@pytest.fixture(name='sandbox')\ndef other():\n    pass\n",
        "a/support.py": "from pytest import fixture\n\n@fixture\ndef helper_fixture():\n    pass\n",
        "a/test_two.py": (
            "from tests.a.support import *\n"
            "from tests.a.support import helper_fixture\n"
            "from tests import conftest\n"
            "sandbox = conftest.sandbox\n"
        ),
        "a/test_fine.py": "from tests.a.support import make_thing\nTHING = make_thing()\n",
    }
    problems = fixture_problems(sources)
    assert problems == [
        "fixture 'sandbox' is defined 2 times: conftest.py:4, a/test_one.py:4",
        "fixture 'helper_fixture' is defined in a/support.py:4, a helper module: move it to a "
        "conftest.py (helper functions may stay)",
        "a/test_two.py:1: `from tests.a.support import *`",
        "a/test_two.py:2: imports the fixture 'helper_fixture' from tests.a.support "
        "(pytest finds it by name)",
        "a/test_two.py:4: re-exports the fixture 'sandbox' (pytest finds it by name)",
    ]
