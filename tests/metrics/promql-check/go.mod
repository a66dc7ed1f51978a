module jarvis.local/promql-check

go 1.24
