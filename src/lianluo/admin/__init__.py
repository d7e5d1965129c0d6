"""Admin pages for queues, skills, agents and users: forms over the existing admin API."""
