"""A screen per mode, each owning its keys (from core/actions.py)."""
