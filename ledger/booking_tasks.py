"""Celery tasks that book transactions into Tripletex."""
