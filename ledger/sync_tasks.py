"""Celery tasks that sync figures from Tripletex."""
