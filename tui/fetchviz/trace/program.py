"""The program to trace, as the command line named it, and how it is started: as it would be
without fetchviz (its argv, working directory and environment), with the tracer loaded by
every Python it starts.

The environment it gets, beyond its own (documented in DESIGN.md):
    PYTHONPATH           the tracer's folder first (its sitecustomize.py), then the user's
    FETCHVIZ_TRACE       the session's socket: where each traced process reports
    FETCHVIZ_TRACE_LINES on the dashboard: its output line by line, as it is printed
    FETCHVIZ_URL         with --serve: the embedded server's URL
Its children inherit them, which is what tracing them needs; fetchviz sets nothing else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from fetchviz.trace import module_spec

INJECT = str(Path(__file__).with_name("inject"))
NAME_WIDTH = 30  # a command's name, on the panel's frame


class ProgramError(Exception):
    """A program that cannot be started as named: one line, exit 2."""


@dataclass(frozen=True, slots=True)
class Program:
    """`script` (SCRIPT.py ARGS), `module` (-m MODULE ARGS) or `command` (-- COMMAND ARGS)."""

    kind: str
    target: str
    args: tuple[str, ...] = ()
    cwd: str = ""
    python: str = ""  # what runs a script or a module: users_python(); "" is fetchviz's

    @classmethod
    def of(cls, kind: str, target: str, args: tuple[str, ...]) -> Program:
        """Checked: what cannot be started is said now, not as a failed run."""
        cwd = os.getcwd()
        python = users_python()
        if kind in ("script", "module"):
            _check_python(python)
        if kind == "script":
            if os.path.isdir(target):  # python runs a folder by its __main__.py, as a zip
                if not os.path.isfile(os.path.join(target, "__main__.py")):
                    raise ProgramError(f"{target} is a folder with no __main__.py: name a script")
            elif not os.path.isfile(target):
                raise ProgramError(f"no such script: {target}")
        elif kind == "module":
            if not _module_found(target, cwd, python):
                hint = ""
                if target.endswith(".py"):  # a script given as a module: -m crawl.py
                    hint = f": for a script, leave out -m (fetchviz trace {target})"
                raise ProgramError(
                    f"no module named {target!r} (as python -m would look for it){hint}"
                )
        elif shutil.which(target) is None:
            raise ProgramError(f"no such command: {target} (not a file, nor on PATH)")
        return cls(kind, target, args, cwd, python)

    @classmethod
    def shown_as(cls, shown: tuple[str, ...], cwd: str) -> Program:
        """The program a recording names by `shown` (unchecked: it is not started again)."""
        if len(shown) >= 3 and shown[:2] == ("python", "-m"):
            return cls("module", shown[2], shown[3:], cwd)
        if len(shown) >= 2 and shown[0] == "python":
            return cls("script", shown[1], shown[2:], cwd)
        return cls("command", shown[0] if shown else "?", shown[1:], cwd)

    @property
    def argv(self) -> tuple[str, ...]:
        """The command that runs it."""
        python = self.python or sys.executable
        if self.kind == "script":
            return (python, self.target, *self.args)
        if self.kind == "module":
            return (python, "-m", self.target, *self.args)
        return (self.target, *self.args)

    @property
    def shown(self) -> tuple[str, ...]:
        """How to write it on screen: as the user typed it."""
        if self.kind == "script":
            return ("python", self.target, *self.args)
        if self.kind == "module":
            return ("python", "-m", self.target, *self.args)
        return (self.target, *self.args)

    @property
    def name(self) -> str:
        """The panel's title: the script, the module, or a command with its first words
        (`python -m pytest…`: `python` alone named every `--` command alike)."""
        if self.kind == "module":
            return self.target
        name = os.path.basename(self.target)
        if self.kind == "command" and self.args:
            name = " ".join(" ".join((name, *self.args)).split())  # `-c 'a\nb'`: one line
            name = name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"
        return name

    def environment(
        self, socket_path: str, lines: bool, url: str | None, cacert: str | None = None
    ) -> dict[str, str]:
        env = dict(os.environ)
        theirs = env.get("PYTHONPATH")
        env["PYTHONPATH"] = INJECT + (os.pathsep + theirs if theirs else "")
        env["FETCHVIZ_TRACE"] = socket_path
        if lines:
            env["FETCHVIZ_TRACE_LINES"] = "1"
        else:
            env.pop("FETCHVIZ_TRACE_LINES", None)
        if url is not None:
            env["FETCHVIZ_URL"] = url
        if cacert is not None:  # --serve --tls: the session's CA, trusted with the system's
            env["FETCHVIZ_CACERT"] = env["SSL_CERT_FILE"] = env["REQUESTS_CA_BUNDLE"] = cacert
        return env


def bundle(cacert: str, folder: str) -> str:
    """A CA file of the system's CAs (certifi's, which requests uses) and the session's."""
    import ssl

    try:
        import certifi

        system = certifi.where()
    except ImportError:
        system = ssl.get_default_verify_paths().cafile or ""
    path = os.path.join(folder, "ca-bundle.pem")
    with open(path, "w") as out:
        for name in (system, cacert):
            if name and os.path.isfile(name):
                with open(name) as part:
                    out.write(part.read().rstrip("\n") + "\n")
    return path


# Where the user works in an environment of their own, a script of theirs imports from it:
# run under fetchviz's Python (pipx's, say), `import requests` failed.
ENVIRONMENTS = ("VIRTUAL_ENV", "CONDA_PREFIX")  # venv, virtualenv, poetry, uv; conda


def users_python() -> str:
    """The Python that `python SCRIPT.py` is where fetchviz was started: that of the virtual
    environment activated there (or conda's), else fetchviz's own."""
    for variable in ENVIRONMENTS:
        prefix = os.environ.get(variable)
        if not prefix:
            continue
        for name in ("python", "python3"):
            path = os.path.join(prefix, "bin", name)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
    return sys.executable


OLDEST = (3, 8)  # the oldest Python the tracer loads in (its syntax)


def _check_python(python: str) -> None:
    """The activated environment's Python runs and can load the tracer: one too old ran the
    program untraced, said as if it had been started with `python -I`."""
    if _ours(python):
        return
    try:
        said = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
        version = tuple(int(part) for part in said.split("."))
    except (OSError, subprocess.TimeoutExpired, ValueError):
        raise ProgramError(f"cannot run {python}, the activated environment's Python") from None
    if version < OLDEST:
        raise ProgramError(
            f"{python} is Python {said}, too old to trace (3.8 or later): "
            "activate another environment, or name one: -- python3.12 SCRIPT.py"
        )


def _ours(python: str) -> bool:
    """The same folder, the same environment (a venv's python and python3 are one Python,
    and every venv's resolves to the one it was made from: the path alone tells them apart)."""
    return os.path.dirname(os.path.abspath(python)) == os.path.dirname(sys.executable)


def _module_found(name: str, cwd: str, python: str) -> bool:
    """Whether `python -m name` would find it from `cwd` (which -m puts on sys.path), asked
    without running any of the program's code (module_spec.py)."""
    if not _ours(python):
        try:
            found = subprocess.run(
                [python, "-c", Path(module_spec.__file__).read_text(encoding="utf-8"), name],
                cwd=cwd,
                capture_output=True,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return found.returncode == 0
    sys.path.insert(0, cwd)
    try:
        return module_spec.found(name)
    finally:
        sys.path.remove(cwd)
