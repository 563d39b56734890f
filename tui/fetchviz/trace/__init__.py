"""Tracing: a user's own program, unmodified, and its Python children, seen from outside.

inject/ is what runs inside the program (standard library only, loaded through
sitecustomize); the rest runs in fetchviz: the program started (program.py), what its
tracers say turned into events (wire.py) from a socket only the user can reach (source.py),
and the headless report (report.py). The model is core/trace.py; the screen ui/screens/trace.py.
"""
