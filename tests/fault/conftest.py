"""The fault-injection suite needs no fixture of its own: ``cluster`` (worker processes on
fresh topics) is in tests/conftest.py, as the metrics, observability and KEDA suites use it
too, and so is the ``disruptive`` marker.

Everything is real: the local stack's Kafka, Redis and S3 server, worker processes started
as ``python -m jarvis.cli worker``, journals on the filesystem. Tests marked ``disruptive``
restart a shared service (Kafka, Redis, the S3 server): scripts/test runs them alone.
"""
