"""Account-number ranges of the Norwegian standard chart of accounts (NS 4102): the one home of
"is this a result account" and "is this a balance account".

One convention: a range is half-open, [first, end), like the ledger's periods (`ledger.periods`), so
the result accounts 3000–8999 are `AccountRange(3000, 9000)`. Classes 1–2 are balance accounts
(assets; equity and liabilities): their balance carries over from year to year. Classes 3–8 are
result accounts (revenue, costs, financial items, tax, allocations): their balance restarts at zero
in every fiscal year, which the tie-out checks and the fiscal-year rule rely on.

The Tripletex sandbox (tripletex/sandbox/: entities, endpoints, store/queries, seed) keeps its own
copy of the 3000 boundary, because tripletex/ must not import ledger (imports point down). The
migration that back-filled MonthSync's counts (ledger/migrations/0004) keeps its literal too:
migrations are history and must not follow later code.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class AccountRange:
    """Account numbers in [first, end)."""

    first: int
    end: int

    def __contains__(self, number: int) -> bool:
        return self.first <= number < self.end

    @property
    def last(self) -> int:
        """The highest number in the range (for people: "3000–8999")."""
        return self.end - 1

    def lookups(self, field: str = "account_number") -> dict[str, int]:
        """Query lookups that keep `field` in the range: `filter(**RESULT.lookups())`."""
        return {f"{field}__gte": self.first, f"{field}__lt": self.end}


BALANCE = AccountRange(1000, 3000)
RESULT = AccountRange(3000, 9000)
# The lines of the key figures (`ledger.figures.keyfigures`) that the sync also totals per month on
# MonthSync (`ledger.sync.month_replace`), so the office dashboard need not sum the balances.
CURRENT_ASSETS = AccountRange(1400, 2000)
SHORT_TERM_DEBT = AccountRange(2300, 3000)
NET_RESULT = AccountRange(3000, 8800)  # the P&L's "Net result for the year", allocations excluded
# Any account a user may post to: NS 4102's four digits, sub-accounts of up to five.
ACCOUNT_NUMBERS = AccountRange(1000, 100_000)


def is_result_account(number: int) -> bool:
    """True for profit-and-loss accounts (3000–8999), whose balance restarts each fiscal year."""
    return number in RESULT
