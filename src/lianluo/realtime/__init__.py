"""The real-time KPI stream of the supervisor wallboard (issue 4 / 8.3)."""
