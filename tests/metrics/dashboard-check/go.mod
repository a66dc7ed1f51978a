module jarvis.local/dashboard-check

go 1.24
