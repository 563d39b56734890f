"""Every action of the screens, written once: its id, default keys, footer label, palette entry
and the modes it belongs to. The bindings, the footer, the palette, `--help`'s key list,
`fetchviz keys` and the keymap's checks are all made from this table.

No Textual here: `fetchviz keys` and `--help` print it without loading the UI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from fetchviz.core.catalog import STRATEGIES

DASHBOARD, TOUR, REPLAY, SWEEP, TRACE = "dashboard", "tour", "replay", "sweep", "trace"
MODES = (DASHBOARD, TOUR, REPLAY, SWEEP, TRACE)
EVERY_MODE = frozenset(MODES)
LIVE = frozenset({DASHBOARD, TOUR})  # the modes that show live runs
BOARD = frozenset({DASHBOARD, TOUR, REPLAY})  # the modes that show the board and the rows


@dataclass(frozen=True, slots=True)
class Action:
    """One thing a key does. `method` is the screen's action (Textual's action string)."""

    id: str
    keys: str  # Textual key names, comma-separated: the defaults
    method: str
    label: str  # the footer's word for it ("" with footer=False)
    help: str  # what it does: the palette's and `fetchviz keys`' line
    modes: frozenset[str]
    footer: bool = True  # shown in the footer (at 80 columns there is room for few)
    display: str | None = None  # how the footer writes its keys, where not as Textual would
    priority: bool = False  # before the focused widget's own bindings
    palette: str | None = None  # the palette's title; None: not in the palette
    # What the palette's entry does, where not what the key does: a choice made in the palette
    # is deliberate, and needs no second press (the tour's escape asks once first).
    palette_method: str | None = None

    @property
    def key_list(self) -> tuple[str, ...]:
        return tuple(key.strip() for key in self.keys.split(",") if key.strip())


def _pick(index: int) -> Action:
    strategy = STRATEGIES[index]
    return Action(
        f"pick.{strategy.id}",
        strategy.key,
        f"pick({strategy.id!r})",
        strategy.id,
        f"run {strategy.id}",
        frozenset({DASHBOARD}),
        footer=False,
        palette=f"Run {strategy.id}",
    )


def _own(place: int, key: str) -> Action:
    return Action(
        f"pick.own{place}",
        key,
        f"pick_own({place - 1})",
        f"own {place}",
        f"run your own strategy {place} (-s PATH.py:FUNCTION)",
        frozenset({DASHBOARD}),
        footer=False,
    )


# Keys for a user's own strategies (-s PATH.py:FUNCTION), in the order given: after the
# built-ins' 1-8. A third has no key; the palette runs it.
OWN_KEYS = ("9", "0")

ACTIONS: tuple[Action, ...] = (
    *(_pick(index) for index in range(len(STRATEGIES))),
    *(_own(place, key) for place, key in enumerate(OWN_KEYS, 1)),
    Action(
        "rerun",
        "r",
        "rerun",
        "Rerun",
        "run the selected strategy again (a file of yours is read again); in the tour, the step",
        LIVE,
        palette="Run again",
    ),
    Action(
        "baseline",
        "b",
        "baseline",
        "Baseline",
        "run the sync baseline with the settings of the next run",
        frozenset({DASHBOARD}),
        palette="Run the sync baseline",
    ),
    Action(
        "compare",
        "a",
        "compare_all",
        "All",
        "run every strategy in turn with the same settings and rank them",
        frozenset({DASHBOARD}),
        palette="Compare all strategies",
    ),
    Action(
        "sweep",
        "s",
        "sweep",
        "Sweep",
        "every strategy at N = 1 … 1,000, on log axes",
        LIVE,
        footer=False,  # the footer is full at 80 columns
        palette="Sweep N",
    ),
    Action(
        "code",
        "c",
        "toggle_code",
        "Code",
        "show or hide the code that runs",
        BOARD,
        palette="Show the code",
    ),
    Action(
        "why",
        "f",
        "failures",
        "Why",
        "every reason the run on screen failed, whole (enter on a row: that task)",
        BOARD,
        footer=False,
        palette="Why it failed",
    ),
    Action(
        "details",
        "enter",
        "details",
        "Details",
        "all there is to know of the row under the cursor (↑↓ move it; a click too)",
        BOARD | {TRACE},
        footer=False,
        display="⏎",
        palette="Details of a row",
    ),
    Action(
        "more",
        "plus,equals_sign",
        "more",
        "More",
        "raise N for the next run",
        LIVE,
        display="+",
        palette="More tasks",
    ),
    Action(
        "fewer",
        "minus,underscore",
        "fewer",
        "Fewer",
        "lower N for the next run",
        LIVE,
        display="-",
        palette="Fewer tasks",
    ),
    Action(
        "cancel",
        "escape",
        "cancel",
        "Cancel",
        "cancel the run, and a compare-all in progress",
        frozenset({DASHBOARD}),
        palette="Cancel the run",
    ),
    # The tour's own. Priority: the code panel beside the rows scrolls sideways with ← and →.
    Action(
        "tour.next",
        "space,right",
        "next_step",
        "Next",
        "the tour's next step",
        frozenset({TOUR}),
        display="space →",
        priority=True,
        palette="Next step",
    ),
    Action(
        "tour.previous",
        "left",
        "previous_step",
        "Back",
        "the step before, as it ran",
        frozenset({TOUR}),
        display="←",
        priority=True,
        palette="Previous step",
    ),
    Action(
        "tour.leave",
        "escape",
        "leave_tour",
        "Leave",
        "pressed twice, leave the tour for the dashboard (a run going on goes on)",
        frozenset({TOUR}),
        priority=True,
        palette="Leave the tour",
        palette_method="leave_tour(True)",
    ),
    # A replay's own.
    Action(
        "replay.pause",
        "space",
        "pause",
        "Pause",
        "pause or go on",
        frozenset({REPLAY}),
        palette="Pause or play",
    ),
    Action(
        "replay.slower",
        "left_square_bracket",
        "slower",
        "Speed",
        "play slower",
        frozenset({REPLAY}),
        display="[ ]",
        palette="Slower",
    ),
    Action(
        "replay.faster",
        "right_square_bracket",
        "faster",
        "Faster",
        "play faster",
        frozenset({REPLAY}),
        footer=False,
        palette="Faster",
    ),
    Action(
        "replay.end",
        "right",
        "skip",
        "End",
        "the end of this run, held there: space goes on",
        frozenset({REPLAY}),
        display="→",
        priority=True,  # before the rows' own → (they scroll sideways, with nothing there)
        palette="End of this run",
    ),
    Action(
        "replay.next",
        "n",
        "next_run",
        "Runs",
        "the next recorded run, held at its end",
        frozenset({REPLAY}),
        display="n p",
        palette="Next run",
    ),
    Action(
        "replay.previous",
        "p",
        "previous_run",
        "Previous run",
        "the recorded run before, held at its end",
        frozenset({REPLAY}),
        footer=False,
        palette="Previous run",
    ),
    Action(
        "replay.sweep",
        "s",
        "sweep_chart",
        "Sweep",
        "the recorded runs' elapsed against N, as the sweep draws it (escape: back)",
        frozenset({REPLAY}),
        footer=False,  # said when a recording holds runs at several N
        palette="The runs against N (sweep chart)",
    ),
    # The sweep's own.
    Action(
        "sweep.leave",
        "escape",
        "leave",
        "Cancel · back",
        "cancel the sweep; once over, back to the dashboard (`fetchviz sweep` alone: q quits)",
        frozenset({SWEEP}),
    ),
    # A traced program's own (fetchviz trace).
    Action(
        "trace.rerun",
        "r",
        "rerun",
        "Rerun",
        "run the program again (edit it, r, watch)",
        frozenset({TRACE}),
        palette="Run the program again",
    ),
    Action(
        "trace.stop",
        "escape",
        "stop",
        "Stop",
        "stop the program: SIGINT first, so it can clean up; killed 3 s later",
        frozenset({TRACE}),
        palette="Stop the program",
    ),
    Action(
        "trace.threads",
        "t",
        "threads",
        "Threads",
        "the program's processes, threads and asyncio tasks, each with its requests",
        frozenset({TRACE}),
        palette="Threads and tasks",
    ),
    Action(
        "trace.output",
        "o",
        "toggle_output",
        "Output",
        "show or hide the program's output, beside its rows or below them",
        frozenset({TRACE}),
        palette="Show the program's output",
    ),
    # Everywhere.
    Action(
        "keys",
        "question_mark",
        "show_keys",
        "Keys",
        "this list of keys, in a window",
        EVERY_MODE,
        display="?",
        palette="Keys",
    ),
    Action(
        "quit",
        "q",
        "quit",
        "Quit",
        "quit: runs are killed, nothing is left",
        EVERY_MODE,
        palette="Quit",
    ),
    # On stage, Ctrl+C must quit at once, as it does everywhere else.
    Action(
        "interrupt",
        "ctrl+c",
        "interrupt",
        "Quit",
        "quit, from anywhere (even over a window); the exit code is 130, as for any Ctrl+C",
        EVERY_MODE,
        footer=False,
        priority=True,
    ),
)

BY_ACTION: dict[str, Action] = {action.id: action for action in ACTIONS}


def of_mode(mode: str, actions: Iterable[Action] = ACTIONS) -> tuple[Action, ...]:
    return tuple(action for action in actions if mode in action.modes)


class KeymapError(ValueError):
    """A keymap that cannot apply: one line naming what is wrong (exit 2)."""


def remapped(keymap: Mapping[str, str], actions: Iterable[Action] = ACTIONS) -> tuple[Action, ...]:
    """The table with a user's keys in place of the defaults, checked: every id is an action's,
    every key one Textual knows, and no key does two things in one mode."""
    actions = tuple(actions)
    known = {action.id for action in actions}
    for action_id, keys in keymap.items():
        if action_id not in known:
            raise KeymapError(f"unknown action {action_id!r}; `fetchviz keys` lists them")
        if not isinstance(keys, str):
            raise KeymapError(f'{action_id!r}: give its keys as a string, e.g. "pagedown,n"')
        if not keys.strip():  # it is a string: "give its keys as a string" read as nonsense
            raise KeymapError(
                f'{action_id!r}: no key given; every action keeps one, e.g. "pagedown,n"'
            )
        for key in (key.strip() for key in keys.split(",")):
            if not is_key(key):
                hint = f"; write {key[-1].upper()!r}" if key.startswith("shift+") else ""
                raise KeymapError(
                    f"{action_id!r}: {key!r} is not a key name (e.g. pagedown, f5, ctrl+n, x){hint}"
                )
            if normal_keys(key) in RESERVED:
                raise KeymapError(
                    f"{action_id!r}: {key!r} is kept for {RESERVED[normal_keys(key)]}; "
                    "choose another key"
                )
    result = tuple(
        replace(action, keys=normal_keys(keymap[action.id]), display=None)
        if action.id in keymap
        else action
        for action in actions
    )
    for mode in MODES:
        taken: dict[str, str] = {}
        for action in of_mode(mode, result):
            for key in action.key_list:
                other = taken.setdefault(key, action.id)
                if other != action.id:
                    raise KeymapError(
                        f"{key!r} is given to both {other!r} and {action.id!r} in the {mode}; "
                        "give one of them another key"
                    )
    return result


# Textual's names for the keys that are not a character, and its modifiers.
NAMED_KEYS = frozenset(
    {
        *("escape", "enter", "tab", "space", "backspace", "delete", "insert", "home", "end"),
        *("pageup", "pagedown", "up", "down", "left", "right"),
        *(f"f{n}" for n in range(1, 25)),
    }
)
MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
# Characters Textual names by their Unicode names (a few shortened): "?" is question_mark.
CHARACTER_NAMES = {
    "!": "exclamation_mark",
    '"': "quotation_mark",
    "#": "number_sign",
    "$": "dollar_sign",
    "%": "percent_sign",
    "&": "ampersand",
    "'": "apostrophe",
    "(": "left_parenthesis",
    ")": "right_parenthesis",
    "*": "asterisk",
    "+": "plus",
    ",": "comma",
    "-": "minus",
    ".": "full_stop",
    "/": "slash",
    ":": "colon",
    ";": "semicolon",
    "<": "less_than_sign",
    "=": "equals_sign",
    ">": "greater_than_sign",
    "?": "question_mark",
    "@": "at",
    "[": "left_square_bracket",
    "\\": "backslash",
    "]": "right_square_bracket",
    "^": "circumflex_accent",
    "_": "underscore",
    "`": "grave_accent",
    "{": "left_curly_bracket",
    "|": "vertical_line",
    "}": "right_curly_bracket",
    "~": "tilde",
}


def normal_keys(keys: str) -> str:
    """A user's keys as Textual's key events name them: "?" is "question_mark"."""
    return ",".join(_normal(key.strip()) for key in keys.split(",") if key.strip())


def _normal(key: str) -> str:
    *mods, last = key.split("+") if len(key) > 1 else [key]
    return "+".join([*mods, CHARACTER_NAMES.get(last, last)])


# Keys Textual takes before any of ours, whatever the keymap says.
RESERVED = {
    "ctrl+p": "the command palette",
    "ctrl+q": "Textual's own quit",
    "tab": "moving the focus",
    "shift+tab": "moving the focus",
}


def is_key(key: str) -> bool:
    """A key Textual can bind and will send: a character, or a name it knows, with modifiers
    before it. (A shifted character comes as itself: "A", never "shift+a"; a modifier before
    a character that is not a plain letter or digit never comes at all.)"""
    if len(key) == 1:
        return key.isprintable() and not key.isspace()
    *mods, last = key.split("+")
    if any(mod not in MODIFIERS for mod in mods):
        return False
    if len(last) == 1:
        shifted_char = "shift" in mods
        return last.isascii() and last.isalnum() and not shifted_char
    return last in NAMED_KEYS or last in CHARACTER_NAMES.values()


def key_help(mode: str, actions: Iterable[Action] = ACTIONS) -> str:
    """A mode's keys as `--help` lists them: "1-8 run a strategy, r run again, …"."""
    shown = []
    mine = of_mode(mode, actions)
    builtin = [a for a in mine if a.id.startswith("pick.") and not a.id.startswith("pick.own")]
    own = [a for a in mine if a.id.startswith("pick.own")]
    if builtin:  # "1-8 h p l run a strategy": a run of digits, then the clients' letters
        digits = [a.keys for a in builtin if a.keys.isdigit()]
        others = [a.keys for a in builtin if not a.keys.isdigit()]
        span = [f"{digits[0]}-{digits[-1]}"] if len(digits) > 1 else digits
        shown.append(f"{' '.join(span + others)} run a strategy")
    if own:
        shown.append(f"{' and '.join(a.keys for a in own)} your own")
    for action in mine:
        if action.palette is None or action.id.startswith("pick."):
            continue
        keys = keys_of(action.id, mine)
        shown.append(f"{keys} {action.palette[0].lower()}{action.palette[1:]}")
    return ", ".join(shown)


def keys_of(action_id: str, actions: Iterable[Action] = ACTIONS) -> str:
    """An action's keys as a message names them ("s", "esc", "←/p"), a keymap's own."""
    action = next(a for a in actions if a.id == action_id)
    return "/".join(DISPLAY.get(k, k) for k in action.key_list if k not in SECOND_KEYS)


# The second keys of + and - (where a keyboard has = and _ unshifted): left out of the help.
SECOND_KEYS = frozenset({"equals_sign", "underscore"})


# How --help and `fetchviz keys` write a key whose Textual name is long.
DISPLAY = {
    **{name: char for char, name in CHARACTER_NAMES.items()},
    "escape": "esc",
    "left": "←",
    "right": "→",
}


def table(actions: Iterable[Action] = ACTIONS) -> list[tuple[str, str, str, str]]:
    """`fetchviz keys`: id, keys, modes, what it does."""
    return [
        (action.id, action.keys, ",".join(m for m in MODES if m in action.modes), action.help)
        for action in actions
    ]
