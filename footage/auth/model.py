"""Users and what they may do."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from footage.domain import InvalidRequest, PermissionDenied


class Permission(enum.StrEnum):
    VIEW = "view"  # see cameras, timelines, pictures and previews
    EXPORT = "export"  # create, cancel and retry exports, download their files
    ADMIN = "admin"  # everything, every user's tasks, user management

    @classmethod
    def parse_many(cls, text: str) -> frozenset[Permission]:
        names = [part.strip().lower() for part in text.split(",") if part.strip()]
        try:
            return frozenset(cls(name) for name in names)
        except ValueError:
            known = ", ".join(p.value for p in cls)
            raise InvalidRequest(f"unknown permission in {text!r}; use {known}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    id: int
    name: str
    permissions: frozenset[Permission]
    cameras: frozenset[str] | None  # None: every camera
    created: datetime

    @property
    def is_admin(self) -> bool:
        return Permission.ADMIN in self.permissions

    def can(self, permission: Permission) -> bool:
        if self.is_admin:
            return True
        if permission is Permission.VIEW:
            return bool({Permission.VIEW, Permission.EXPORT} & self.permissions)
        return permission in self.permissions

    def can_see_camera(self, camera_id: str) -> bool:
        return self.is_admin or self.cameras is None or camera_id in self.cameras

    def require(self, permission: Permission, camera_id: str | None = None) -> None:
        """Raise ``PermissionDenied`` unless the user holds ``permission`` (on the camera)."""
        if not self.can(permission):
            raise PermissionDenied(
                f"user {self.name!r} lacks the {permission.value!r} permission; "
                "ask an administrator to grant it"
            )
        if camera_id is not None and not self.can_see_camera(camera_id):
            raise PermissionDenied(f"user {self.name!r} may not access camera {camera_id!r}")
