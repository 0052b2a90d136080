"""Small pieces shared by the staff admin's model admins."""

from typing import Any

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """Staff can look, never add, change or delete (logs and records the app writes itself)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
