"""Each command's --help lists exactly what it accepts: every option it shows parses (given a
value that fits), and every option another command shows but this one does not is refused in
one line, exit 2. The command line is parsed in this process: nothing runs."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from fetchviz.cli import UsageError, main, parse

ROOT = Path(__file__).resolve().parent.parent
RECORDING = ROOT / "tests" / "recordings" / "sync.jsonl.gz"
OWN_STRATEGY = f"{ROOT / 'examples' / 'bounded.py'}:bounded"
COMMANDS = ["dashboard", "serve", "replay", "export", "sweep", "tour", "web", "trace", "keys"]
LEAVE = {"-h", "--help", "--version"}  # they print and leave with 0
FLAG = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")


def words(command: str) -> list[str]:
    return [] if command == "dashboard" else [command]


def base(command: str, tmp_path: Path) -> list[str]:
    """What the command needs besides the option looked at."""
    if command == "replay":
        return [str(RECORDING)]
    if command == "export":
        return [str(RECORDING), "--csv", str(tmp_path / "base.csv")]
    if command == "trace":  # the program comes last: what follows it is the program's
        return [str(ROOT / "tests" / "traced" / "no_requests.py")]
    return []


def line(command: str, tmp_path: Path, option: list[str]) -> list[str]:
    """The command line with `option`: before the program, for trace (with --serve, which
    the server's options need)."""
    if command == "trace":
        return [*words(command), "--serve", *option, *base(command, tmp_path)]
    return [*words(command), *base(command, tmp_path), *option]


def sample_values(tmp_path: Path) -> dict[str, str]:
    """A value that fits, by long flag (the same option may mean more to one command)."""
    import trustme

    urls = tmp_path / "urls.txt"
    urls.write_text("http://127.0.0.1:1/  # nothing listens: parsing fetches nothing\n")
    keymap = tmp_path / "keys.toml"
    keymap.write_text('"tour.next" = "pagedown"\n')
    ca = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca))
    return {
        "--tasks": "3",
        "trace -m": "json.tool",  # parsed only: nothing runs
        "--strategy": "sync",
        "--url": "http://127.0.0.1:1/",
        "--urls": str(urls),
        "--delay": "20",
        "--jitter": "5",
        "--fail-rate": "0.1",
        "--workers": "2",
        "--limit": "2",
        "--timeout": "5",
        "--loop": "asyncio",
        "--record": str(tmp_path / "x.jsonl"),
        "--cacert": str(ca),
        "--theme": "high-contrast",
        "--keymap": str(keymap),
        "--host": "127.0.0.1",
        "--port": "0",
        "--speed": "2",
        "--har": str(tmp_path / "x.har"),
        "--trace": str(tmp_path / "x.trace.json"),
        "--csv": str(tmp_path / "x.csv"),
        "sweep --tasks": "1,2",  # the sweep's is a list of sizes
        "tour --strategy": OWN_STRATEGY,  # the tour takes only the user's own
    }


def help_of(command: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as leaving:
        parse([*words(command), "--help"])
    assert leaving.value.code == 0
    return out.getvalue()


def shown(command: str) -> dict[str, tuple[str, bool]]:
    """The options --help shows, in its usage and its list: each flag's long flag, and
    whether it takes a value."""
    text = help_of(command)
    usage = text.split("\n\n", 1)[0]
    listed: dict[str, tuple[str, bool]] = {}
    for line in text.splitlines():
        if not line.startswith("  -"):
            continue
        invocation = [part.split() for part in line.strip().split("  ")[0].split(", ")]
        long_flag = invocation[-1][0]
        for flag, *value in invocation:
            listed[flag] = (long_flag, bool(value))
    assert set(FLAG.findall(usage.removeprefix("usage:"))) <= set(listed), usage
    return listed


def given(command: str, flag: str, how: tuple[str, bool], values: dict[str, str]) -> list[str]:
    """The flag, and a value that fits it if it takes one (`how`: as shown() says)."""
    long_flag, takes_value = how
    if not takes_value:
        return [flag]
    value = values.get(f"{command} {long_flag}", values.get(long_flag))
    assert value is not None, f"no sample value for {command} {long_flag}: give it one here"
    return [flag, value]


@pytest.fixture(autouse=True)
def fixed_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # argparse lays its help out for the terminal's width


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_help_shows_is_accepted(command, tmp_path):
    values = sample_values(tmp_path)
    for flag, how in shown(command).items():
        argv = line(command, tmp_path, given(command, flag, how, values))
        if flag in LEAVE:
            with contextlib.redirect_stdout(io.StringIO()), pytest.raises(SystemExit) as leaving:
                parse(argv)
            assert leaving.value.code == 0, argv
            continue
        try:
            parse(argv)
        except UsageError as exc:
            pytest.fail(f"fetchviz {command} --help shows {flag}, which it refuses: {exc}")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_help_does_not_show_is_refused_in_one_line(command, tmp_path, capsys):
    values = sample_values(tmp_path)
    everywhere: dict[str, tuple[str, list[str]]] = {}  # flag: (a command showing it, given so)
    for other in COMMANDS:
        for flag, how in shown(other).items():
            everywhere.setdefault(flag, (other, given(other, flag, how, values)))
    mine = shown(command)
    for flag, (other, option) in everywhere.items():
        if flag in mine:
            continue
        argv = line(command, tmp_path, option)
        with pytest.raises(UsageError):  # not SystemExit: no help, no version, nothing run
            parse(argv)
        capsys.readouterr()
        assert main(argv) == 2, f"fetchviz {command} takes {flag} (as {other} does) but hides it"
        out, err = capsys.readouterr()
        assert out == "" and len(err.splitlines()) == 1 and flag in err, err


def test_the_speaker_s_cases_of_issue_22(capsys):
    """sweep --headless works, so it is shown; tour --headless and --json are refused, so
    they are not, and giving them says what to do."""
    assert "--headless" in shown("sweep")
    assert parse(["sweep", "--headless"]).headless is True
    assert {"--headless", "--json", "--all"}.isdisjoint(shown("tour"))
    assert {"--headless", "--json", "--record"}.isdisjoint(shown("web"))
    capsys.readouterr()
    for argv, says in (
        (["tour", "--headless"], "fetchviz tour: error: --headless: the tour is told on screen"),
        (["tour", "--json"], "fetchviz tour: error: --json: the tour is told on screen; drop it"),
        (["tour", "--all"], "fetchviz tour: error: --all: the tour runs every built-in in its"),
        (["web", "--json"], "fetchviz web: error: --json: a tab shows the dashboard already"),
        (["web", "--tour", "--all"], "fetchviz web: error: --all: the tour runs every built-in"),
        (["web", "--tour", "-s", "sync"], "fetchviz web: error: -s NAME: the tour runs every"),
    ):
        assert main(argv) == 2
        [line] = capsys.readouterr().err.splitlines()
        assert line.startswith(says), line


def test_what_web_hands_each_tab_is_what_was_typed_less_web_s_own(tmp_path):
    keymap = tmp_path / "keys.toml"
    keymap.write_text("")
    argv = ["web", "--port", "0", "-n", "3", "--key", str(keymap), "--tour", "--url=/delay/5"]
    args = parse(argv)
    assert args.dashboard == ["tour", "-n", "3", "--url=/delay/5"]
    assert (args.port, args.tour, args.keymap.path) == (0, True, str(keymap))


@pytest.mark.parametrize(
    "argv, instead",
    [
        ([], "add --headless, or run it in a terminal"),
        (["replay", "tests/recordings/sync.jsonl.gz"], "add --headless"),
        (["sweep"], "add --headless"),
        (["tour"], ": run it in a terminal"),
        (["trace", "tests/traced/no_requests.py"], "add --headless"),
    ],
)
def test_a_dashboard_with_no_terminal_says_so_and_waits_for_nothing(argv, instead, capsys):
    # Under pytest neither stdin nor the captured stderr is a terminal, as `< /dev/null 2> f`:
    # the dashboard drew escape codes into the file and waited for a key forever.
    assert main(argv) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "no terminal to draw the dashboard in" in line and instead in line, line


def test_headless_needs_no_terminal(capsys):
    assert main(["--headless", "-s", "sync", "-n", "1", "--delay", "1"]) == 0
    assert "sync" in capsys.readouterr().out


def test_the_dashboards_help_says_what_each_command_does():
    # The command words were in the usage line only: nothing said what tour or trace do.
    from fetchviz.cli import COMMANDS

    text = io.StringIO()
    with contextlib.redirect_stdout(text), pytest.raises(SystemExit):
        parse(["--help"])
    listed = text.getvalue().split("commands (fetchviz COMMAND --help says more):")[1]
    words = [line.split()[0] for line in listed.strip().splitlines()]
    assert words == list(COMMANDS)
    assert all(len(line) <= 80 for line in listed.splitlines())
