"""Jarvis: a Kafka-driven, event-sourced execution engine for SPy programs."""

__version__ = "0.1.0"
