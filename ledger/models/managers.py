"""The manager every company-owned ledger model uses: django-scopes' ScopedManager on `company`.

`ScopedManager(company="company")` builds its manager class inside a function and returns an
instance, so the django-stubs plugin cannot find a class for `Model.objects` (and, through the
company FK, for Company's reverse managers) and reports django-manager-missing. Naming the class
once at module level gives the plugin a real class, and every scoped ledger model shares it.
"""

from typing import TypeVar

from django.db import models
from django_scopes import ScopedManager

_M = TypeVar("_M", bound=models.Model)


# The first base is the class django-scopes makes for the `company` dimension, so an instance
# behaves exactly as `ScopedManager(company="company")` did; it already derives from Manager, so
# naming Manager[_M] second changes nothing at run time and gives mypy typed querysets. mypy cannot
# check a base computed by a call ("Unsupported dynamic base class"; django_scopes ships no types).
class CompanyScopedManager(type(ScopedManager(company="company")), models.Manager[_M]):  # type: ignore[misc]
    """Queries on a tenant model must run inside `scope(company=...)` or `scopes_disabled()`."""
