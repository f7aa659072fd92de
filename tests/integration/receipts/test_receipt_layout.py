"""The tenant's receipt layout: texts and a PNG logo through the API and the staff page (multipart), each bad input
refused with a Russian message and nothing written, permissions, the audit; the demo's layout, seeded once."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest
from sqlalchemy import text

from aquabill.base.errors import Invalid
from aquabill.billing_core.receipts import load_layout, png_size
from aquabill.demo.receipt_layout import LOGO, seed_receipt_layout
from aquabill.platform.web.billing.layout_pages import print_layout
from aquabill.tenants.context import tenant_transaction
from tests.integration.billing_core.api_helpers import Api, as_role, login_cookie

DROP = LOGO.read_bytes()


def _png(width: int, height: int, *, extra: bytes = b"") -> bytes:
    """A valid grey PNG of the size (one IDAT), `extra` bytes of a private chunk to make it heavier."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + (chunk(b"prIv", extra) if extra else b"") + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


BROKEN = {
    "not a png": (b"GIF89a" + b"\x00" * 40, "нет подписи PNG"),
    "too big": (_png(10, 10, extra=b"\x00" * 210_000), "слишком большой"),
    "bad header checksum": (DROP[:29] + bytes([DROP[29] ^ 0xFF]) + DROP[30:], "повреждён"),
    "truncated": (DROP[:-20], "обрезан"),
    "huge picture": (_png(5000, 1), "5000×1"),
    "no header": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "IHDR"),
}


def test_png_checks():
    assert png_size(DROP) == (120, 160) and png_size(_png(3, 2)) == (3, 2)
    for data, words in BROKEN.values():
        with pytest.raises(Invalid, match=words):
            png_size(data)


async def test_layout_api(client, make_tenant):
    t = await make_tenant()
    api = Api(client, t.headers)
    blank = await api.ok("get", "/api/receipts/layout")
    assert (blank["header_text"], blank["logo"], blank["logo_png_base64"]) == ("", None, None)
    saved = await api.ok("put", "/api/receipts/layout", {"header_text": "  МУП «Вода»\r\nс 1965 года ",
                                                         "notes": "Поверьте счётчики"})
    assert (saved["header_text"], saved["notes"], saved["footer_text"]) == ("МУП «Вода»\nс 1965 года",
                                                                            "Поверьте счётчики", "")
    assert (await api.ok("put", "/api/receipts/layout", {"footer_text": "Касса"}))["header_text"] == "МУП «Вода»\nс 1965 года"
    for body, words in (({"notes": "я" * 2001}, "не больше 2000 символов"), ({"footer_text": "a\x00b"}, "управляющие"),
                        ({"header_text": "я" * 9000}, "")):
        r = await api.put("/api/receipts/layout", body)
        assert r.status_code in (400, 422) and words in r.json()["error"]["message"], r.text
    logo = await api.ok("put", "/api/receipts/layout/logo", {"png_base64": base64.b64encode(DROP).decode()})
    assert logo["logo"]["width"] == 120 and logo["logo"]["height"] == 160 and logo["logo"]["bytes"] == len(DROP)
    assert base64.b64decode(logo["logo_png_base64"]) == DROP and len(logo["logo"]["sha256"]) == 64
    for data, words in BROKEN.values():
        r = await api.put("/api/receipts/layout/logo", {"png_base64": base64.b64encode(data).decode()})
        assert r.status_code in (400, 422), r.text
        if r.status_code == 422:
            assert words in r.json()["error"]["message"], r.text
    for raw in ("не base64!", "", "QUJD"):
        r = await api.put("/api/receipts/layout/logo", {"png_base64": raw})
        assert r.status_code == 422 and "Логотип" in r.json()["error"]["message"], r.text
    assert (await api.ok("get", "/api/receipts/layout"))["logo"]["width"] == 120  # the refusals wrote nothing
    assert (await api.ok("delete", "/api/receipts/layout/logo", status=200))["logo"] is None

    history = (await api.ok("get", "/api/audit/receipt_layout/1"))["items"]
    assert len(history) == 4 and all(x["user_id"] == 1 and x["action"] == "update" for x in history)
    assert not any("logo_png" in (x["new"] or {}) for x in history)  # the logo by its hash, not its bytes
    assert any((x["new"] or {}).get("logo_sha256") == logo["logo"]["sha256"] for x in history)

    viewer = await as_role(client, t, "viewer")
    assert (await viewer.put("/api/receipts/layout", {"notes": "x"})).status_code == 403
    assert (await viewer.get("/api/receipts/layout")).status_code == 200
    operator = await as_role(client, t, "operator")
    assert (await operator.ok("put", "/api/receipts/layout", {"notes": "Оператор"}))["notes"] == "Оператор"


async def test_layout_page(client, make_tenant):
    t = await make_tenant()
    await login_cookie(client, t)
    r = await client.get("/billing/requisites")
    assert r.status_code == 200 and 'href="/billing/receipt-layout"' in r.text
    page = await client.get("/billing/receipt-layout")
    assert page.status_code == 200 and "Логотип не загружен" in page.text and 'enctype="multipart/form-data"' in page.text
    r = await client.post("/billing/receipt-layout", data={"header_text": "Водоканал", "footer_text": "Касса 8–17",
                                                           "notes": ""},
                          files={"logo": ("drop.png", DROP, "image/png")})
    assert r.status_code == 200 and "Макет квитанции сохранён" in r.text, r.text
    assert "data:image/png;base64," in r.text and "120×160" in r.text and "Касса 8–17" in r.text
    r = await client.post("/billing/receipt-layout", data={"header_text": "Новый", "footer_text": "", "notes": ""},
                          files={"logo": ("photo.png", b"JFIF not a png", "image/png")})
    assert r.status_code == 200 and "нет подписи PNG" in r.text and 'role="alert"' in r.text
    assert ">Новый</textarea>" in r.text  # what was typed stays in the form…
    api = Api(client, t.headers)
    current = await api.ok("get", "/api/receipts/layout")
    assert current["header_text"] == "Водоканал" and current["logo"]["width"] == 120  # …and nothing was written
    r = await client.post("/billing/receipt-layout", data={"header_text": "Водоканал", "footer_text": "",
                                                           "notes": "я" * 2001})
    assert r.status_code == 200 and "Примечания: не больше 2000 символов" in r.text
    r = await client.post("/billing/receipt-layout", data={"header_text": "Водоканал", "footer_text": "", "notes": "",
                                                           "remove_logo": "1"})
    assert r.status_code == 200 and "Логотип не загружен" in r.text
    r = await client.post("/billing/receipt-layout", content=b"\xff\xfe=\x00&&==", follow_redirects=False,
                          headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code < 500


async def test_demo_layout_is_seeded_once(core, make_tenant):
    t = await make_tenant()
    async with tenant_transaction(core.engines, t.tenant, 1) as conn:
        assert await seed_receipt_layout(conn, 1) is True
        assert await seed_receipt_layout(conn, 1) is False
        layout = await load_layout(conn)
        assert layout["logo"]["width"] == 120 and "Водоканал" in layout["header_text"] and layout["notes"]
        printed = print_layout(layout)  # what the PDF renderer gets
        assert (printed.logo_png, printed.header_text, printed.notes, printed.footer_text) == (
            DROP, layout["header_text"], layout["notes"], layout["footer_text"])
        await conn.execute(text("UPDATE receipt_layout SET header_text = 'Свой', logo_png = NULL, logo_sha256 = NULL"))
        assert await seed_receipt_layout(conn, 1) is False  # the tenant's own layout stays
    assert len(DROP) < 10_000
