"""The accountant's reports: the report pack PDF (packs/) and the group view (groups/).

Reads the ledger's figures (imports point down: reporting → ledger → companies → tripletex) and
owns its own models and migrations.
"""
