import pytest

from aquabill.platform.auth.permissions import Principal


def staff(*perms):
    return Principal(kind="staff", user_id=1, login="u", tenant_id=1, permissions=frozenset(perms))


@pytest.mark.parametrize("perms,resource,action,allowed", [
    ((("accounts", "view"),), "accounts", "view", True),
    ((("accounts", "view"),), "accounts", "edit", False),
    ((("accounts", "view"),), "users", "view", False),
    ((("accounts", "admin"),), "accounts", "edit", True),
    ((("accounts", "admin"),), "accounts", "report", True),
    ((("*", "view"),), "audit", "view", True),
    ((("*", "view"),), "audit", "edit", False),
    ((("*", "admin"),), "anything", "report", True),
    ((), "accounts", "view", False),
])
def test_permission_matrix(perms, resource, action, allowed):
    assert staff(*perms).can(resource, action) is allowed


def test_platform_admin_has_no_tenant_permissions():
    p = Principal(kind="platform", user_id=1, login="root", permissions=frozenset({("*", "admin")}))
    assert not p.can("accounts", "view")
