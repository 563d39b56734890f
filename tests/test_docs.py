"""The README and the docs cannot drift from the program: every `fetchviz …` command they show
runs (small, headless where it would open a screen, against the embedded server) unless a
comment before its block says why it cannot; the command-line page has every option of each
command's --help, the keys page every action of `fetchviz keys`; every picture shown is in
docs/images, its SVGs snapshot tests' own bytes, each PNG named by the script that draws it;
the README is short, its links lead somewhere, and its test command is CI's."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import selectors
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from fetchviz.cli import COMMANDS, UsageError, parse
from fetchviz.records.recording import read_recording
from test_cli import fetchviz

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.rglob("*.md"))]
FENCE = re.compile(r"^```(?P<language>[\w-]*)\n(?P<code>.*?)^```$", re.M | re.S)
MARK = re.compile(r"<!--\s*(?P<kind>not run|file):(?P<what>(?:(?!-->).)*)-->\Z", re.S)
SHELLS = {"bash", "sh", "shell", "console"}
HEADLESS = {"--headless", "--json", "--csv"}
SMALL = ["-n", "2"]
QUICK = ["--delay", "10"]
STARTED = 60  # seconds a server may take to say where it listens: a bound, not a wait


@dataclass
class Block:
    page: Path
    line: int
    language: str
    code: str
    mark: str | None  # "not run" or "file"
    what: str  # the reason, or the file's name

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for fence in FENCE.finditer(text):
        marked = MARK.search(text[: fence.start()].rstrip())
        found.append(
            Block(
                page,
                text.count("\n", 0, fence.start()) + 1,
                fence["language"],
                fence["code"],
                marked["kind"] if marked else None,
                marked["what"].strip() if marked else "",
            )
        )
    return found


def commands(block: Block) -> list[list[str]]:
    """The `fetchviz …` commands of a shell block, each as its words (`&&` splits them; a
    console block's commands are its `$ ` lines)."""
    if block.language not in SHELLS:
        return []
    found = []
    for line in block.code.splitlines():
        if block.language == "console":
            if not line.startswith("$ "):
                continue
            line = line[2:]
        words = shlex.split(line, comments=True)
        while words:
            cut = words.index("&&") if "&&" in words else len(words)
            if Path(words[0]).name == "fetchviz":
                found.append(words[:cut])
            words = words[cut + 1 :]
    return found


EVERY_BLOCK = [block for page in PAGES for block in blocks(page)]
WITH_COMMANDS = [block for block in EVERY_BLOCK if commands(block)]


def small(words: list[str]) -> tuple[str, list[str], str | None]:
    """How a command is run here: ("run" | "start" | "parse", its arguments, where its stdout
    goes). Small and headless where it would open a screen; a server is started and stopped."""
    args = words[1:]
    stdout = None
    if ">" in args:
        at = args.index(">")
        stdout, args = args[at + 1], args[:at] + args[at + 2 :]
    word = args[0] if args and args[0] in COMMANDS else None
    shaped = not ({"--url", "--urls"} & set(args))  # --delay shapes the embedded server only
    if {"-h", "--help", "--version"} & set(args) or word in {"keys", "export"}:
        return "run", args, stdout
    if word in {"serve", "web"}:
        if "--port" in args:  # a port of the reader's choice may be taken here: a free one
            args[args.index("--port") + 1] = "0"
        return "start", args, stdout
    if word == "tour":  # a screen of its own, no headless: its command line, then its runs
        return "parse", args, stdout
    if word == "trace":
        extra = [] if HEADLESS & set(args) else ["--headless"]
        extra += QUICK if "--serve" in args else []
        return "run", ["trace", *extra, *args[1:]], stdout
    extra = [] if HEADLESS & set(args) else ["--headless"]
    if word == "replay":
        return "run", [*args, *extra], stdout
    if word == "sweep":
        return "run", [*args, *extra, "--tasks", "1,2", *(QUICK if shaped else [])], stdout
    return "run", [*args, *extra, *SMALL, *(QUICK if shaped else [])], stdout


def workspace(block: Block, tmp_path: Path) -> dict[str, str]:
    """A folder of its own with examples/ beside it and the page's files (`<!-- file: -->`)."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    for other in blocks(block.page):
        if other.mark == "file":
            (tmp_path / other.what).write_text(other.code, encoding="utf-8")
    env = dict(os.environ)
    # `python` in a traced command is this environment's, where requests is.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(args: list[str], cwd: Path, env: dict[str, str], stdout: str | None) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fetchviz", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"fetchviz {shlex.join(args)}: {done.stderr[-2000:]}"
    if stdout is not None:
        (cwd / stdout).write_text(done.stdout, encoding="utf-8")


def start_and_stop(args: list[str], cwd: Path, env: dict[str, str]) -> None:
    """A server: it says where it listens, then Ctrl+C stops it, with nothing left behind."""
    process = subprocess.Popen(
        [sys.executable, "-m", "fetchviz", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + STARTED
            line = ""
            while "http" not in line and time.monotonic() < deadline:
                if selector.select(timeout=deadline - time.monotonic()):
                    line = process.stdout.readline()
                    if not line:
                        break
        assert "http" in line, f"fetchviz {shlex.join(args)} said no URL: {line!r}"
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
        assert code in (0, 130), f"fetchviz {shlex.join(args)} ended with {code}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize(
    "block",
    [
        # A block marked "not run" (a remote URL) is no test at all, rather than a skipped
        # one: test_marks_say_why holds its reason.
        pytest.param(block, id=block.where)
        for block in WITH_COMMANDS
        if block.mark != "not run"
    ],
)
def test_each_fetchviz_command_shown_runs(block, tmp_path, monkeypatch):
    env = workspace(block, tmp_path)
    monkeypatch.chdir(tmp_path)  # the paths a command names (a keymap, a file) are the block's
    for words in commands(block):
        how, args, stdout = small(words)
        if how == "start":
            start_and_stop(args, tmp_path, env)
            continue
        if how == "parse":  # the tour's command line as it checks it, then its runs headless
            try:
                parse(args)
            except UsageError as exc:
                pytest.fail(f"{block.where}: fetchviz {shlex.join(args)}: {exc}")
            shaped = not ({"--url", "--urls"} & set(args))
            args = ["--headless", *args[1:], *SMALL, *(QUICK if shaped else [])]
        run(args, tmp_path, env, stdout)


def test_a_block_that_is_not_run_says_why_and_holds_a_command():
    for block in EVERY_BLOCK:
        if block.mark == "not run":
            assert block.what, f"{block.where}: <!-- not run: --> says why, or it is no mark"
            assert commands(block), f"{block.where} is marked not run but runs no fetchviz"


def test_each_file_a_page_makes_is_used_by_a_command_of_that_page():
    for block in EVERY_BLOCK:
        if block.mark == "file":
            used = [w for b in blocks(block.page) for c in commands(b) for w in c]
            assert any(block.what in word for word in used), f"{block.where}: {block.what}"


def test_the_readme_is_short():
    assert len(README.read_bytes()) <= 12_000


def test_the_readmes_test_command_is_the_one_ci_runs():
    quick = README.read_text(encoding="utf-8").split("## Quick start", 1)[1].split("\n## ", 1)[0]
    tests = [b.code.strip() for b in blocks(README) if "pytest" in b.code and b.line > 0]
    [command] = [code for code in tests if code in quick]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert command in ci, "the README's test command is not .ci/run's, word for word"
    assert any("mkdocs build --strict" in line for line in ci)


def slug(heading: str) -> str:
    """An anchor as MkDocs (Python-Markdown's toc) makes it from a heading."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[-\s]+", "-", text).strip("-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(h) for h in re.findall(r"^#+\s+(.*)$", text, re.M)}


def test_the_slug_is_the_one_mkdocs_makes():
    assert slug("Same rules for every client") == "same-rules-for-every-client"
    assert slug("The CSV's columns") == "the-csvs-columns"
    assert slug("`fetchviz serve`") == "fetchviz-serve"


def test_the_readmes_links_lead_to_files_and_anchors_that_exist():
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links
    for link in links:
        if re.match(r"[a-z]+://", link):
            continue
        path, _, anchor = link.partition("#")
        target = ROOT / path
        assert target.exists(), f"README links to {link}: no such file"
        if anchor:
            assert anchor in anchors(target), f"README links to {link}: no such anchor"


def test_the_readme_links_every_page_of_the_docs():
    text = README.read_text(encoding="utf-8")
    for page in DOCS.rglob("*.md"):
        assert f"(docs/{page.relative_to(DOCS)})" in text, f"the README does not link {page}"


IMAGES = DOCS / "images"  # the site's pictures
SCREENSHOTS = ROOT / "screenshots"  # the README's, where GitHub shows them
FOLDERS = (IMAGES, SCREENSHOTS)
SNAPSHOTS = ROOT / "tests" / "__snapshots__"
SCRIPTS = ROOT / "scripts"


def test_each_svg_of_the_docs_is_a_snapshot_byte_for_byte():
    """A screen the docs show is a snapshot test's own file: drawn from a recording, checked
    on every run of the tests (tests/test_snapshots.py says how to draw them again)."""
    snapshots = {path.read_bytes(): path for path in SNAPSHOTS.rglob("*.svg")}
    svgs = sorted(image for folder in FOLDERS for image in folder.glob("*.svg"))
    assert svgs
    for image in svgs:
        where = image.relative_to(ROOT)
        assert image.read_bytes() in snapshots, f"{where} is no snapshot's copy"


def test_each_png_of_the_docs_is_named_by_the_script_that_draws_it():
    """A picture no terminal draws (a browser's) is a script's, which writes it into
    docs/images; its docstring says how it is made."""
    scripts = [path.read_text(encoding="utf-8") for path in sorted(SCRIPTS.glob("*.py"))]
    writers = [text for text in scripts if 'OUT = ROOT / "docs" / "images"' in text]
    pngs = sorted(IMAGES.glob("*.png"))
    assert pngs
    for image in pngs:
        named = any(f'"{image.name}"' in text for text in writers)
        assert named, f"docs/images/{image.name}: no script of scripts/ draws it"


def test_each_picture_shown_is_in_a_picture_folder_and_each_of_those_is_shown():
    images = sorted(image for folder in FOLDERS for image in folder.iterdir())
    assert images
    shown = set()
    for page in PAGES:
        for link in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            picture = (page.parent / link).resolve()
            assert picture.parent in FOLDERS, f"{page.relative_to(ROOT)} shows {link}"
            shown.add(picture)
    for image in images:
        where = image.relative_to(ROOT)
        assert image.suffix in {".svg", ".png"}, f"{where}: neither an SVG nor a PNG"
        assert image in shown, f"{where} is shown nowhere"


def test_the_devtools_pictures_recording_exports_what_they_wait_for(tmp_path):
    """scripts/viewer_pictures.py draws the DevTools pictures from a recording of the tests,
    exported as it exports it: the HAR holds every request of the recording (the Network
    panel waits for their count), the trace the event its Performance panel searches."""
    spec = importlib.util.spec_from_file_location("viewer_pictures", SCRIPTS / "viewer_pictures.py")
    assert spec is not None and spec.loader is not None
    viewer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(viewer)  # Playwright is imported only to draw
    assert viewer.RECORDING.parent == ROOT / "tests" / "recordings"
    recording = read_recording(viewer.RECORDING)
    har, trace = tmp_path / "run.har", tmp_path / "run.json"
    viewer.export(har, trace)
    entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    assert len(entries) == sum(run.config.tasks for run in recording.runs) == 20
    names = {event.get("name") for event in json.loads(trace.read_text())["traceEvents"]}
    assert viewer.SEARCHED in names, f"the trace has no event {viewer.SEARCHED!r}"


def help_options(words: list[str]) -> set[str]:
    """Every option a command's --help lists."""
    done = fetchviz(*words, "--help")
    assert done.returncode == 0, done.stderr
    options = set()
    for line in done.stdout.splitlines():
        if re.match(r"\s{2}-", line):
            options |= set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", line.split("  ")[1]))
    return options


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_the_command_line_page_has_every_option_of_each_commands_help(command):
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    options = help_options([command] if command else [])
    assert "--help" in options
    missing = {o for o in options if not re.search(rf"`{re.escape(o)}[\s`,=]", page)}
    assert not missing, f"docs/cli.md lacks {sorted(missing)} of fetchviz {command or ''} --help"
    if command:
        assert f"`fetchviz {command}" in page, f"docs/cli.md has no section for {command}"


def test_the_keys_page_has_every_action_of_fetchviz_keys_with_its_modes():
    done = fetchviz("keys")
    assert done.returncode == 0, done.stderr
    page = (DOCS / "keys.md").read_text(encoding="utf-8")
    rows = [line.split() for line in done.stdout.splitlines()[1:] if line.strip()]
    assert len(rows) > 30
    ids = [row[0] for row in rows]
    ranged = "`pick.sync` … `pick.threads`"  # one row for the eight built-ins of 1–8
    within = ids[ids.index("pick.sync") : ids.index("pick.threads") + 1] if ranged in page else []
    for action in ids:
        assert action in within or f"`{action}`" in page, f"docs/keys.md lacks {action}"
    for mode in {mode for row in rows for mode in row[2].split(",")}:
        assert f"`fetchviz {mode}" in page or mode == "dashboard", f"no table for {mode}"


def test_the_readme_names_every_key_of_the_dashboard():
    from fetchviz.core.actions import DASHBOARD, of_mode

    text = README.read_text(encoding="utf-8").split("## Keys", 1)[1].split("\n## ", 1)[0]
    written = set(re.findall(r"`([^`]+)`", text))
    if "1`–`8" in text:
        written |= set("12345678")
    shown = {"plus": "+", "minus": "-", "question_mark": "?"}
    for action in of_mode(DASHBOARD):
        first = action.key_list[0]
        assert shown.get(first, first) in written, f"the README's keys lack {action.id}"


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    import mkdocs  # noqa: F401  the test extra brings the docs' (a missing one fails here)

    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "cli.html").is_file()


def test_the_performance_page_holds_every_section_of_the_benchmarks_readme():
    benchmarks = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    page = (DOCS / "performance.md").read_text(encoding="utf-8")
    for heading in re.findall(r"^##+ .*$", benchmarks, re.M):
        assert f"\n{heading}\n" in page, f"docs/performance.md lacks {heading!r}"
