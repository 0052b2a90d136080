"""What booking tells people when Tripletex refuses: plain language, branching on the field
Tripletex names (never on its message text)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from ledger.models import Transaction
from tripletex.errors import TripletexError


def plain_messages(exc: TripletexError, txn: Transaction) -> list[str]:
    """Tripletex's validation messages in plain language (branching on field, never on text)."""
    plain: list[str] = []
    for vm in exc.validation_messages or ():
        name = vm.field or ""
        if name == "date" or name.endswith(".date"):
            text = _(
                "The date %(date)s is not accepted by Tripletex: its accounting period is "
                "probably closed. Choose a date in an open period and book again."
            ) % {"date": txn.trade_date.isoformat()}
        elif "account" in name:
            text = _(
                "An account on the voucher is unknown or cannot be used in Tripletex. Check the "
                "GL account settings and the lines."
            )
        elif "vatType" in name:
            text = _("A VAT code is not allowed on its account in Tripletex.")
        elif "customer" in name or "supplier" in name:
            text = _(
                "An account is a customer or supplier ledger account, which needs a customer or "
                "supplier. Use an ordinary account."
            )
        elif "department" in name or "project" in name:
            text = _("A department or project is unknown or required on an account.")
        elif name == "postings" or not name:
            text = _("Tripletex refused the postings (do they balance?).")
        else:
            text = _("Tripletex refused the voucher.")
        plain.append(f"{text} (Tripletex: {vm.field + ': ' if vm.field else ''}{vm.message})")
    if not plain:
        plain.append(_("Tripletex refused the voucher: %(message)s") % {"message": exc.message})
    return list(dict.fromkeys(plain))


def forbidden_message() -> str:
    """What to do when Tripletex answers 403 to a voucher: grant "Advanced Voucher", or send
    vouchers for approval instead."""
    return _(
        "Tripletex refused: the company's API key lacks permission to post vouchers. In "
        'Tripletex, give the key\'s user the "Advanced Voucher" (Avansert bilag) access, or create '
        'the key with the access template "Alle tilganger", then book again. Or choose "Send '
        'vouchers for approval in Tripletex" in the GL account settings, and someone at the firm '
        "approves each voucher in Tripletex."
    )
