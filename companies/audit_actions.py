"""What each audit-log code means, in words people read (the code itself is for the database).

`AuditEvent.action` holds a stable code such as `membership.removed`; the staff admin and a firm's
own audit log show its label instead. Every code the project records has a label here
(tests/companies/test_audit_log.py finds the codes in the source and checks); an unknown code (an
old row whose code was since renamed) reads "Other change".
"""

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

AUDIT_ACTIONS: dict[str, Promise] = {
    "company.onboarded": _("Company connected"),
    "company.seeded": _("Demo data created"),
    "company.mfa_required": _("Two-step login required of everyone"),
    "company.mfa_optional": _("Two-step login no longer required of everyone"),
    "invitation.sent": _("Invitation sent"),
    "invitation.resent": _("Invitation sent again"),
    "invitation.revoked": _("Invitation withdrawn"),
    "invitation.accepted": _("Invitation accepted"),
    "invitation.declined": _("Invitation declined"),
    "membership.added": _("User added"),
    "membership.removed": _("User removed"),
    "membership.role_changed": _("Role changed"),
    "key.set": _("Tripletex key stored"),
    "key.replaced": _("Tripletex key replaced"),
    "key.office": _("Connected through an accounting office's key"),
    "key.removed": _("Tripletex connection removed"),
    "office_key.set": _("Accounting office key stored"),
    "key_request.received": _("Connection request received"),
    "key_request.approved": _("Connection request approved"),
    "key_request.rejected": _("Connection request rejected"),
    "mfa.enrolled": _("Two-step login set up"),
    "mfa.recovery_codes_renewed": _("New recovery codes made"),
    "mfa.recovery_code_used": _("Recovery code used"),
    "mfa.reset": _("Two-step login reset"),
    "mfa.disabled": _("Two-step login turned off"),
    "user.added": _("User account created"),
    "user.changed": _("User account changed"),
    "budget.uploaded": _("Budget uploaded"),
}


def audit_action_label(action: str) -> str:
    """The label of an audit code ("User removed"); "Other change" for a code without one."""
    label = AUDIT_ACTIONS.get(action)
    return str(label) if label is not None else gettext("Other change")
