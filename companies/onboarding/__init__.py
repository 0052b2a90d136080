"""Onboarding a firm: check the organisation number, verify a Tripletex key, then save it all.

`verification` holds the reads (organisation numbers, key checks against Tripletex, an office
key's clients) and `saving` the writes (the firm, its connection and key, its members), which
verify first. Imports point down: saving uses verification and companies.services, never the
other way round.
"""
