"""The public key-request page: the key never travels by e-mail (issue 15).

A firm's contact or its accounting office fills in the organisation number(s), the people to
invite with their roles, the accounting system and the Tripletex key (the firm's own, or the
office's key with the clients it should reach). The key is verified live against Tripletex by the
same code staff onboarding uses (companies.onboarding.verification), encrypted the moment it
arrives (companies/crypto.py) and shown to nobody. The request waits in the staff admin
("Connection requests"), where staff approve it (the firms are created by the onboarding saving
service, companies.onboarding.saving, and the people invited) or reject it with a reason; the
requester gets an e-mail at each step, never with the key.

`bot` holds the page's protection against bots (a signed, time-limited, single-use form token, a
minimum fill time and a honeypot field; the rate limit is companies/throttle.py's per-address
rule), `forms` the form, `services` the writes and e-mails, `views` the two public pages.
"""
