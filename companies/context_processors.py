"""Template context shared by every page: the companies in the switcher."""

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, object]:
    """The signed-in user's companies (for the switcher) and the current company, if any."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from companies.mfa import mfa_pending_step
    from companies.selectors import companies_for_user

    if mfa_pending_step(user) is not None:
        return {}  # a password alone does not show which companies the account reaches

    return {
        "switcher_companies": companies_for_user(user=user),
        "current_company": getattr(request, "company", None),
    }
