"""Staff admin for sync schedules and runs."""
