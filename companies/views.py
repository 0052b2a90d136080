"""Pages about companies and their people. Views are thin: check access, call a selector, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from companies.audit import audit_events_of
from companies.forms import MemberInviteForm
from companies.invitations import InvitationError, invitation_resend, invitation_revoke
from companies.mfa import company_mfa_policy_set
from companies.models import Invitation, Membership, Role
from companies.selectors import companies_for_user, invitations_pending, members_of
from companies.services import (
    MemberError,
    member_invite,
    member_remove,
    member_role_change,
)
from companies.tenancy import AuthenticatedRequest, CompanyRequest, company_role_required


@require_GET
@login_required
def company_switch(request: AuthenticatedRequest) -> HttpResponse:
    """The switcher's target: go to the chosen company (404 unless a member)."""
    slug = request.GET.get("company", "")
    if not companies_for_user(user=request.user).filter(slug=slug).exists():
        raise Http404("No such company.")
    return HttpResponseRedirect(reverse("companies:company_home", kwargs={"company_slug": slug}))


@company_role_required(Role.ACCOUNTANT)
@require_GET
def company_home(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The company's front page."""
    return render(request, "companies/company_home.html", {"company": request.company})


@company_role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def members(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The company's users and their roles, and the invitations not answered yet; administrators
    invite people here (the same answer for every address: companies/invitations.py)."""
    form = MemberInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email, role = form.cleaned_data["email"], form.cleaned_data["role"]
        try:
            member_invite(company=request.company, email=email, role=role, by=request.user)
        except MemberError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": email.lower()})
            return redirect(request.path)
    rows = members_of(company=request.company)
    status = 400 if request.method == "POST" else 200
    context = {
        "members": rows,
        "invitations": invitations_pending(company=request.company),
        "form": form,
        "roles": Role.choices,
    }
    return render(request, "companies/members.html", context, status=status)


AUDIT_PAGE_SIZE = 50


@company_role_required(Role.ADMIN)
@require_GET
def audit_log(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The company's own audit log, read-only, newest first, 50 events a page."""
    paginator = Paginator(audit_events_of(company=request.company), AUDIT_PAGE_SIZE)
    events = paginator.get_page(request.GET.get("side"))
    return render(request, "companies/audit_log.html", {"events": events})


def _membership(request: CompanyRequest, pk: int) -> Membership:
    membership = members_of(company=request.company).filter(pk=pk).first()
    if membership is None:
        raise Http404("No such member.")
    return membership


@company_role_required(Role.ADMIN)
@require_POST
def member_change(request: CompanyRequest, company_slug: str, pk: int) -> HttpResponse:
    """Change a member's role or remove the member."""
    membership = _membership(request, pk)
    email = membership.user.email
    action = request.POST.get("action", "")
    try:
        if action == "role":
            role = request.POST.get("role", "")
            if role not in Role.values:
                raise MemberError(_("Choose one of the roles."))
            member_role_change(
                company=request.company, membership=membership, role=role, by=request.user
            )
            messages.success(
                request,
                _("%(email)s is now %(role)s.") % {"email": email, "role": Role(role).label},
            )
        elif action == "remove":
            member_remove(company=request.company, membership=membership, by=request.user)
            messages.success(request, _("%(email)s no longer has access.") % {"email": email})
        else:
            raise MemberError(_("Unknown action."))
    except MemberError as exc:
        messages.error(request, str(exc))
    return redirect("companies:members", company_slug=request.company.slug)


@company_role_required(Role.ADMIN)
@require_POST
def invitation_change(request: CompanyRequest, company_slug: str, pk: int) -> HttpResponse:
    """Send a pending invitation again (a new link) or withdraw it (its link stops working)."""
    invitation = Invitation.objects.filter(
        company=request.company, pk=pk, status=Invitation.Status.PENDING
    ).first()
    if invitation is None:
        raise Http404("No such invitation.")
    action = request.POST.get("action", "")
    try:
        if action == "resend":
            invitation_resend(company=request.company, invitation=invitation, by=request.user)
            text = _("Invitation sent to %(email)s again.")
        elif action == "revoke":
            invitation_revoke(company=request.company, invitation=invitation, by=request.user)
            text = _("The invitation to %(email)s is withdrawn; its link no longer works.")
        else:
            raise InvitationError(_("Unknown action."))
    except InvitationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, text % {"email": invitation.email})
    return redirect("companies:members", company_slug=request.company.slug)


@company_role_required(Role.ADMIN)
@require_POST
def company_mfa_policy(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Require (or stop requiring) two-step login of everyone in the company."""
    required = request.POST.get("require_mfa") == "on"
    company_mfa_policy_set(company=request.company, required=required, by=request.user)
    if required:
        messages.success(request, _("Everyone in this company must now use two-step login."))
    else:
        messages.success(
            request, _("Two-step login is required only of finance users and administrators.")
        )
    return redirect("companies:members", company_slug=request.company.slug)
