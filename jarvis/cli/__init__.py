"""The jarvis command line."""
