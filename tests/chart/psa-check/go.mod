module jarvis.local/psa-check

go 1.24
