"""Tickets (工单): state machine, ownership models, business-hours SLA clock, complaint flags
and per-model metrics. Pure: no I/O, time passed in."""
