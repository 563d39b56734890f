"""What every part shares: the events, the model of a run, the catalog, the session, the
table of actions. No I/O, no Textual; it imports nothing else of fetchviz."""
