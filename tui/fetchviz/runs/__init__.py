"""The runs themselves: the run's own process and its strategies, the latency server, the
headless consumer. No Textual."""
