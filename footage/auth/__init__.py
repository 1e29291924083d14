"""Users, permissions, password hashing, API tokens and web sessions."""

from footage.auth.model import Permission, User
from footage.auth.store import UserStore

__all__ = ["Permission", "User", "UserStore"]
