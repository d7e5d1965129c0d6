"""Reports and analytics over the event log (issue 8); KPI definitions in domain/kpi."""
