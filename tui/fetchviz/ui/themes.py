"""Themes for a projector: Textual's own, and one that still reads when the image is washed
out (pure black and white, saturated colours, nothing told apart by a shade of grey alone)."""

from __future__ import annotations

from textual.theme import BUILTIN_THEMES, Theme

HIGH_CONTRAST = Theme(
    name="high-contrast",
    primary="#00BFFF",
    secondary="#FF00FF",
    accent="#FFD700",
    warning="#FFD700",
    error="#FF4040",
    success="#00FF40",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#1A1A1A",
    dark=True,
    # Muted and disabled text stay readable: a washed-out projector erases greys first.
    variables={
        "text-muted": "#E0E0E0",
        "text-disabled": "#B0B0B0",
        "footer-key-foreground": "#FFD700",
    },
)

THEMES = {**BUILTIN_THEMES, HIGH_CONTRAST.name: HIGH_CONTRAST}
