"""Pulling a firm's figures from Tripletex: the sync service, month-replace SQL, schedules, tie-out, tasks, pages."""
