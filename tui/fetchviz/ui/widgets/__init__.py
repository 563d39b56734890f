"""The widgets the screens are made of; they draw a session's state and own no run."""
