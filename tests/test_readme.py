"""The strategies of the README and of the docs run as printed: every block of Python they show
is a file that runs (written to a file, run with `fetchviz --json -s FILE:FUNCTION`), unless the
page marks it `<!-- fragment: why -->` just before it, or `<!-- file: NAME -->` (a program that
a command of the page runs: tests/test_docs.py runs it); and every examples/ file they name runs
too."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from test_cli import fetchviz

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(?P<language>[\w-]*)\n(?P<code>.*?)^```$", re.M | re.S)
FRAGMENT = re.compile(r"<!--\s*fragment:(?P<why>(?:(?!-->).)*)-->\Z", re.S)
A_FILE = re.compile(r"<!--\s*file:(?P<name>(?:(?!-->).)*)-->\Z", re.S)
NAMED = re.compile(r"\bexamples/(?P<file>[\w-]+\.py)(?::(?P<function>\w+))?")
TASKS = 3


def python_blocks() -> list[object]:
    """Each ```python block of every page, by its line; skipped if marked a fragment, saying
    why; left out if it is a file a command of its page runs."""
    blocks: list[object] = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for fence in FENCE.finditer(text):
            if fence["language"] != "python":
                continue
            before = text[: fence.start()].rstrip()
            if A_FILE.search(before):
                continue
            line = text.count("\n", 0, fence.start()) + 1
            where = f"{page.relative_to(ROOT)}:{line}"
            marked = FRAGMENT.search(before)
            marks = []
            if marked and marked["why"].strip():  # a mark that does not say why is no mark
                why = marked["why"].strip()
                marks.append(pytest.mark.skip(reason=f"{where} is a fragment: {why}"))
            blocks.append(pytest.param(fence["code"], id=where, marks=marks))
    return blocks


def named_examples() -> list[str]:
    """Every examples/FILE.py[:FUNCTION] a page names: the function, or the one named after its
    file."""
    specs = {
        f"{ROOT / 'examples' / name['file']}:{name['function'] or name['file'][:-3]}"
        for page in PAGES
        for name in NAMED.finditer(page.read_text(encoding="utf-8"))
    }
    return sorted(specs)


def runs_every_task_ok(spec: str) -> None:
    done = fetchviz("--json", "-s", spec, "-n", str(TASKS), "--delay", "20")
    assert done.returncode == 0, done.stderr
    [run] = json.loads(done.stdout)["runs"]
    outcome = (run["error"], run["ok"], run["failed"], run["unreported"])
    assert outcome == (None, TASKS, 0, 0), f"{spec}: {outcome}"
    assert [task["state"] for task in run["tasks"]] == ["finished"] * TASKS


def test_the_docs_show_python_and_name_examples():
    assert python_blocks() and named_examples()


@pytest.mark.parametrize("code", python_blocks())
def test_each_python_block_of_the_docs_runs_as_printed(code, tmp_path):
    strategies = [
        node.name
        for node in ast.parse(code).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and len(node.args.args) == 1
    ]
    assert strategies, (
        "this block defines no strategy f(job); if it is not meant as a file, put "
        "<!-- fragment: why --> before it"
    )
    path = tmp_path / "from_docs.py"
    path.write_text(code, encoding="utf-8")
    for name in strategies:
        runs_every_task_ok(f"{path}:{name}")


@pytest.mark.parametrize("spec", named_examples(), ids=lambda spec: Path(spec).name)
def test_each_example_the_docs_name_runs(spec):
    assert Path(spec.rsplit(":", 1)[0]).is_file(), f"the docs name {spec}: it is not there"
    runs_every_task_ok(spec)
