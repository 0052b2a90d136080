"""Budgets: synced from Tripletex's /resultbudget or uploaded from the XLSX template, and read by the
figures pages, the report pack and the office dashboard."""
