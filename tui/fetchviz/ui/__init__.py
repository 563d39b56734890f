"""The Textual UI: the App, a screen per mode, the windows over them, the widgets."""
