"""The README's strategies run as printed: every block of Python it shows is a file that runs
(written to a file, run with `fetchviz --json -s FILE:FUNCTION`), unless the README marks it
`<!-- fragment: why -->` just before it; and every examples/ file it names runs too."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from test_cli import fetchviz

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(?P<language>[\w-]*)\n(?P<code>.*?)^```$", re.M | re.S)
FRAGMENT = re.compile(r"<!--\s*fragment:(?P<why>(?:(?!-->).)*)-->\Z", re.S)
NAMED = re.compile(r"\bexamples/(?P<file>[\w-]+\.py)(?::(?P<function>\w+))?")
TASKS = 3


def python_blocks() -> list[object]:
    """Each ```python block, by its line; skipped if marked a fragment, saying why."""
    blocks: list[object] = []
    for fence in FENCE.finditer(README):
        if fence["language"] != "python":
            continue
        line = README.count("\n", 0, fence.start()) + 1
        where = f"README.md:{line}"
        marked = FRAGMENT.search(README[: fence.start()].rstrip())
        marks = []
        if marked and marked["why"].strip():  # a mark that does not say why is no mark
            marks.append(pytest.mark.skip(reason=f"{where} is a fragment: {marked['why'].strip()}"))
        blocks.append(pytest.param(fence["code"], id=where, marks=marks))
    return blocks


def named_examples() -> list[str]:
    """Every examples/FILE.py[:FUNCTION] the README names: the function, or the one named
    after its file."""
    specs = {
        f"{ROOT / 'examples' / name['file']}:{name['function'] or name['file'][:-3]}"
        for name in NAMED.finditer(README)
    }
    return sorted(specs)


def runs_every_task_ok(spec: str) -> None:
    done = fetchviz("--json", "-s", spec, "-n", str(TASKS), "--delay", "20")
    assert done.returncode == 0, done.stderr
    [run] = json.loads(done.stdout)["runs"]
    outcome = (run["error"], run["ok"], run["failed"], run["unreported"])
    assert outcome == (None, TASKS, 0, 0), f"{spec}: {outcome}"
    assert [task["state"] for task in run["tasks"]] == ["finished"] * TASKS


def test_the_readme_shows_python_and_names_examples():
    assert python_blocks() and named_examples()


@pytest.mark.parametrize("code", python_blocks())
def test_each_python_block_of_the_readme_runs_as_printed(code, tmp_path):
    strategies = [
        node.name
        for node in ast.parse(code).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and len(node.args.args) == 1
    ]
    assert strategies, (
        "this block defines no strategy f(job); if it is not meant as a file, put "
        "<!-- fragment: why --> before it"
    )
    path = tmp_path / "from_readme.py"
    path.write_text(code, encoding="utf-8")
    for name in strategies:
        runs_every_task_ok(f"{path}:{name}")


@pytest.mark.parametrize("spec", named_examples(), ids=lambda spec: Path(spec).name)
def test_each_example_the_readme_names_runs(spec):
    assert Path(spec.rsplit(":", 1)[0]).is_file(), f"the README names {spec}: it is not there"
    runs_every_task_ok(spec)
