"""Booking into Tripletex exactly once: the protocol, reconcile, reversal, messages, tasks, pages."""
