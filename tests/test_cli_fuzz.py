"""No command line, however odd, produces a traceback: rejections are one line and exit 2."""

from __future__ import annotations

import contextlib
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from fetchviz.cli import UsageError, main, parse

OPTIONS = [
    "-n",
    "--tasks",
    "-s",
    "--strategy",
    "--all",
    "--url",
    "--delay",
    "--jitter",
    "--fail-rate",
    "--workers",
    "--limit",
    "--timeout",
    "--json",
    "--headless",
    "--version",
    "--help",
    "serve",
    "--host",
    "--port",
    "-",
    "--",
    "--t",
    "--del",
]
VALUES = [
    "0",
    "-1",
    "1",
    "10",
    "1e9",
    "nan",
    "inf",
    "-inf",
    "0.5",
    "99999999999999999999",
    "sync",
    "aiohttp",
    "http://127.0.0.1:1/",
    "ftp://x",
    "http://",
    "http://[::1",
    "",
    " ",
    "%s",
    "%(x)s",
    "\n",
    "é",
    "☃",
    "\x1b[31m",
]
TOKENS = st.one_of(
    st.sampled_from(OPTIONS),
    st.sampled_from(VALUES),
    st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=20),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(TOKENS, max_size=6))
def test_any_command_line_parses_or_gets_one_line_and_exit_2(argv):
    try:
        parse(argv)
    except UsageError:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()) as out:
            code = main(argv)
        assert code == 2
        assert out.getvalue() == ""
        lines = err.getvalue().splitlines()
        assert len(lines) == 1 and lines[0].startswith("fetchviz")
    except SystemExit as exit_:  # --help and --version print and leave with 0
        assert exit_.code == 0
