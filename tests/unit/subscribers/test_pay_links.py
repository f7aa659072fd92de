"""Payment link tokens (contract 3): signed, URL-safe, bound to one tenant and one account."""

import re

import pytest

from aquabill.base.errors import Invalid
from aquabill.subscribers.pay_links import BAD_LINK, pay_token, read_pay_token

SECRET = "app-secret"


def test_a_token_reads_back_as_its_tenant_and_account():
    token = pay_token(SECRET, "vodokanal-1", 42)
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token)
    assert read_pay_token(SECRET, token) == ("vodokanal-1", 42)


def test_tokens_differ_by_tenant_and_account():
    assert len({pay_token(SECRET, "aa", 1), pay_token(SECRET, "ab", 1), pay_token(SECRET, "aa", 2)}) == 3


def _swap_payload(token: str, payload: str) -> str:
    import base64

    return base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode() + "." + token.split(".")[1]


@pytest.mark.parametrize("make", [
    lambda t: t + "x",  # signature changed
    lambda t: t[:-2],  # cut
    lambda t: _swap_payload(t, "other:42"),  # another tenant under the same signature
    lambda t: _swap_payload(t, "vodokanal-1:43"),  # another account
    lambda t: t.replace(".", ""),  # no separator
    lambda t: "",
    lambda t: "a.b.c",
    lambda t: "\u0430\u0431\u0432.\u0433\u0434",  # not base64
    lambda t: t + "." * 300,  # too long
])
def test_a_changed_or_foreign_token_is_refused(make):
    token = make(pay_token(SECRET, "vodokanal-1", 42))
    with pytest.raises(Invalid) as exc:
        read_pay_token(SECRET, token)
    assert exc.value.message == BAD_LINK


def test_a_token_made_under_another_secret_is_refused():
    with pytest.raises(Invalid):
        read_pay_token(SECRET, pay_token("another-secret", "vodokanal-1", 42))


@pytest.mark.parametrize("slug, account", [("Bad Slug", 1), ("ok-slug", 0), ("ok-slug", 2**31)])
def test_no_token_for_what_cannot_be_a_tenant_or_an_account(slug, account):
    with pytest.raises(ValueError):
        pay_token(SECRET, slug, account)
