"""Transactions: recording, checking, FIFO cost, vouchers they become, CSV import, pages."""
