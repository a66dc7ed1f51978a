"""Kafka plumbing shared by the worker, the client and the CLI."""
