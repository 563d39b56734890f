"""Windows over a screen (modal: under them, only quitting acts)."""
