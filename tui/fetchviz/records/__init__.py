"""Recordings: the file written as runs go, played back as an event source, exported for
other tools. No Textual."""
