"""A user's keys: a TOML file of `"action-id" = "key1,key2"`, read and checked before any
screen shows, so that an unknown id, a key Textual does not know or one key given twice is one
line and exit 2, never a key that silently does nothing."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Any

from fetchviz.core.actions import KeymapError, normal_keys, remapped


@dataclass(frozen=True, slots=True)
class Keymap:
    """A keymap file, checked: its keys by action id, as Textual names them ("?" is
    question_mark)."""

    path: str  # absolute: `fetchviz web` hands it to dashboards that may not share our folder
    keys: dict[str, str]


def read(path: str) -> Keymap:
    """The file, checked; KeymapError with one line that names the file and what is wrong."""
    import tomllib  # here, not at the top: most launches have no keymap (9 ms of a launch)

    try:
        with open(path, "rb") as file:
            document = tomllib.load(file)
    except FileNotFoundError:  # as --urls and --cacert say it
        raise KeymapError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise KeymapError(f"{path}: a folder, not a keymap file") from None
    except OSError as exc:
        raise KeymapError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        # The likeliest slip, `tour.next = pagedown`: TOML's "Invalid value" says not what to do.
        unquoted = "Invalid value" in str(exc)
        hint = '; keys go in quotes: "tour.next" = "pagedown"' if unquoted else ""
        raise KeymapError(f"{path}: not valid TOML ({exc}){hint}") from None
    try:
        keys = _flat(document)
        remapped(keys)
    except KeymapError as exc:
        raise KeymapError(f"{path}: {exc}") from None
    return Keymap(os.path.abspath(path), {id_: normal_keys(keys) for id_, keys in keys.items()})


def _flat(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Unquoted, `tour.next = "pagedown"` is a table in TOML: its id is tour.next all the same."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        inner = (
            _flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key: value}
        )
        for action_id, keys in inner.items():
            if action_id in flat:
                raise KeymapError(f"{action_id!r} is given twice; keep one")
            flat[action_id] = keys
    return flat


def option(text: str) -> Keymap:
    """--keymap FILE: checked now, as --urls FILE is, and by headless runs too (a script can
    check a keymap with `fetchviz --json -n 1 --keymap FILE`)."""
    try:
        return read(text)
    except KeymapError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def user_file() -> str:
    """$XDG_CONFIG_HOME/fetchviz/keymap.toml; XDG_CONFIG_HOME, unset or not absolute, is
    ~/.config (as the XDG base directory spec says)."""
    config = os.environ.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(config):
        config = os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(config, "fetchviz", "keymap.toml")


def chosen(given: Keymap | None) -> Keymap | None:
    """--keymap's, else the user's file if there is one. Only what shows a screen asks:
    headless runs never read the user's file. Raises KeymapError (exit 2)."""
    if given is not None:
        return given
    path = user_file()
    return read(path) if os.path.exists(path) else None


def for_screen(given: Keymap | None, headless: bool = True) -> dict[str, str] | None:
    """The keys a screen is given: chosen's, as launch takes them; called where a screen is
    about to show, it checks there is a terminal to show it on (a bad file is said first).
    `headless`: the command has a --headless to offer instead."""
    from fetchviz.cli import terminal

    keymap = chosen(given)
    terminal.need_one(headless)
    return None if keymap is None else keymap.keys
