module jarvis/tests/metrics/promql-check

go 1.24
