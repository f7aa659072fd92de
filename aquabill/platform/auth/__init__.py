"""Staff and platform-admin authentication, sessions, permissions."""

from aquabill.platform.auth.permissions import ACTIONS, Principal, requires

__all__ = ["ACTIONS", "Principal", "requires"]
