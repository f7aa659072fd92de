"""The tenant's receipt layout (t0026 `receipt_layout`, one row): the texts printed on every receipt — a
header, a footer, notes — and the logo. The texts are plain text of at most 2,000 characters each; the logo
is a PNG of at most 200 KB whose signature, header chunk (IHDR: its size and its checksum) and end are
checked here, so that the renderer never meets a broken picture. Changes are audited (the logo by its
SHA-256). The web layer maps the plain dict to the renderer's layout."""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid

TEXTS = {"header_text": "Заголовок", "footer_text": "Нижний колонтитул", "notes": "Примечания"}
MAX_TEXT = 2000
MAX_LOGO_BYTES = 200 * 1024
MAX_LOGO_SIDE = 4096  # pixels
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
# colour type → allowed bit depths (PNG specification, 11.2.2 IHDR)
PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
NOT_PNG = "Логотип должен быть картинкой PNG"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG, after checking its signature, its IHDR chunk (size, checksum, fields) and
    that it ends with IEND; a refusal says what is wrong in Russian."""
    if len(data) > MAX_LOGO_BYTES:
        raise Invalid(f"Логотип слишком большой: {len(data) // 1024} КБ, допускается не больше 200 КБ", field="logo")
    if not data.startswith(PNG_SIGNATURE):
        raise Invalid(f"{NOT_PNG}: у файла нет подписи PNG", field="logo")
    head = data[8:33]
    if len(head) < 25 or head[4:8] != b"IHDR" or struct.unpack(">I", head[:4])[0] != 13:
        raise Invalid(f"{NOT_PNG}: нет заголовка изображения (IHDR)", field="logo")
    if zlib.crc32(head[4:21]) != struct.unpack(">I", head[21:25])[0]:
        raise Invalid(f"{NOT_PNG}: заголовок изображения повреждён", field="logo")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", head[8:21])
    if depth not in PNG_DEPTHS.get(colour, ()) or compression or filtering or interlace not in (0, 1):
        raise Invalid(f"{NOT_PNG}: неизвестный формат пикселей", field="logo")
    if not (0 < width <= MAX_LOGO_SIDE and 0 < height <= MAX_LOGO_SIDE):
        raise Invalid(f"Размер логотипа {width}×{height} пикселей: допускается от 1 до {MAX_LOGO_SIDE} по каждой "
                      "стороне", field="logo")
    if not data.endswith(PNG_END):
        raise Invalid(f"{NOT_PNG}: файл обрезан (нет конца IEND)", field="logo")
    return width, height


def clean_text(raw: Any, key: str) -> str:
    """A layout text: line ends made \\n, spaces at the ends trimmed; control characters and more than 2,000
    characters refused."""
    if not isinstance(raw, str):
        raise Invalid(f"{TEXTS[key]}: ожидается текст", field=key)
    value = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if _CONTROL.search(value):
        raise Invalid(f"{TEXTS[key]}: недопустимые управляющие символы", field=key)
    if len(value) > MAX_TEXT:
        raise Invalid(f"{TEXTS[key]}: не больше {MAX_TEXT} символов, указано {len(value)}", field=key)
    return value


def _layout(r: Any) -> dict[str, Any]:
    logo = None
    if r.logo_png is not None:
        data = bytes(r.logo_png)
        try:
            width, height = png_size(data)
        except Invalid:  # (stored only after the same check: kept, its size unknown, should the rules change)
            width = height = None
        logo = {"width": width, "height": height, "bytes": len(data), "sha256": r.logo_sha256}
    return {**{k: getattr(r, k) for k in TEXTS}, "logo": logo,
            "logo_png": bytes(r.logo_png) if r.logo_png is not None else None,
            "updated_at": r.updated_at, "updated_by": r.updated_by}


async def load_layout(conn: AsyncConnection) -> dict[str, Any]:
    """The texts, `logo` ({width, height, bytes, sha256} or None), `logo_png` (the bytes or None), when and by
    whom it was last changed."""
    row = (await conn.execute(text(
        "SELECT header_text, footer_text, notes, logo_png, logo_sha256, updated_at, updated_by "
        "FROM receipt_layout WHERE id = 1"))).first()
    if row is None:  # (t0026 writes the row; a blank layout should it be gone)
        return {**{k: "" for k in TEXTS}, "logo": None, "logo_png": None, "updated_at": None, "updated_by": None}
    return _layout(row)


async def save_layout(conn: AsyncConnection, raw: dict[str, Any], *, user_id: int | None) -> dict[str, Any]:
    """Change the texts given in `raw` (a key absent or None: unchanged); unknown keys are refused."""
    unknown = set(raw) - set(TEXTS)
    if unknown:
        raise Invalid(f"Неизвестные поля макета: {', '.join(sorted(unknown))}")
    values = {k: clean_text(v, k) for k, v in raw.items() if v is not None}
    if values:
        sets = ", ".join(f"{k} = :{k}" for k in values)
        await conn.execute(text(
            "INSERT INTO receipt_layout(id) VALUES (1) ON CONFLICT (id) DO NOTHING"))
        await conn.execute(text(
            f"UPDATE receipt_layout SET {sets}, updated_at = now(), updated_by = :u WHERE id = 1 "
            f"AND ({', '.join(values)}) IS DISTINCT FROM ({', '.join(':' + k for k in values)})"),
            {**values, "u": user_id})
    return await load_layout(conn)


async def save_logo(conn: AsyncConnection, png: bytes | None, *, user_id: int | None) -> dict[str, Any]:
    """Replace the logo by a checked PNG, or remove it (None)."""
    digest = None
    if png is not None:
        png_size(png)
        digest = hashlib.sha256(png).hexdigest()
    await conn.execute(text("INSERT INTO receipt_layout(id) VALUES (1) ON CONFLICT (id) DO NOTHING"))
    await conn.execute(text(
        "UPDATE receipt_layout SET logo_png = :png, logo_sha256 = :h, updated_at = now(), updated_by = :u "
        "WHERE id = 1 AND logo_sha256 IS DISTINCT FROM :h"), {"png": png, "h": digest, "u": user_id})
    return await load_layout(conn)
