"""The reading window's sentence and the meter photo's type (pure)."""

from datetime import date
from decimal import Decimal

import pytest

from aquabill.base.errors import Invalid
from aquabill.subscribers.readings import (
    PHOTO_MAX_BYTES,
    answer,
    check_photo,
    photo_content_type,
    window_refusal,
)


@pytest.mark.parametrize("today,days,expected", [
    (date(2026, 12, 15), (15, 25), None),
    (date(2026, 12, 25), (15, 25), None),
    (date(2026, 12, 6), (15, 25),
     "Показания принимаются с 15 по 25 число месяца. Сегодня 6 декабря — передайте показания с 15 декабря."),
    (date(2026, 12, 26), (15, 25),
     "Показания принимаются с 15 по 25 число месяца. Сегодня 26 декабря — передайте показания с 15 января."),
    # a last day beyond the month's end is its last day
    (date(2027, 2, 28), (20, 31), None),
    (date(2027, 3, 1), (20, 31),
     "Показания принимаются с 20 по 31 число месяца. Сегодня 1 марта — передайте показания с 20 марта."),
    # over the turn of the month
    (date(2026, 12, 27), (25, 5), None),
    (date(2027, 1, 3), (25, 5), None),
    (date(2027, 1, 10), (25, 5), "Показания принимаются с 25 числа по 5 число следующего месяца. "
                                 "Сегодня 10 января — передайте показания с 25 января."),
    (date(2026, 5, 1), (1, 31), None),
])
def test_window(today, days, expected):
    assert window_refusal(today, days) == expected


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 10
HEIC = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 12


@pytest.mark.parametrize("data,kind", [(PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp"),
                                       (HEIC, "image/heic"), (b"%PDF-1.7 not a photo", None),
                                       (b"GIF89a" + b"\x00" * 10, None), (b"", None)])
def test_photo_type_by_magic_bytes(data, kind):
    assert photo_content_type(data) == kind


def test_photo_refusals():
    with pytest.raises(Invalid) as big:
        check_photo(JPEG + b"\x00" * PHOTO_MAX_BYTES)
    assert big.value.message.startswith("Фото слишком большое (5,0 МБ): можно не больше 5 МБ.")
    with pytest.raises(Invalid) as other:
        check_photo(b"%PDF-1.7")
    assert other.value.message == "Это не фотография в формате JPEG, PNG, WebP или HEIC: выберите снимок счётчика."
    assert check_photo(PNG) == "image/png"


def test_answers_are_plain_sentences():
    meter = {"serial": "ХВ-1", "service_name": "Холодное водоснабжение"}
    reading = {"value": Decimal("123.450"), "consumption": Decimal("5.2"),
               "read_on": date(2026, 12, 20), "reason": "Показание 5 меньше предыдущего (10 на 20.11.2026)"}
    assert answer("accepted", reading, meter) == (
        "Показание 123,45 по счётчику № ХВ-1 (холодное водоснабжение) принято. Расход: 5,2 м³. Спасибо!")
    assert answer("rejected", reading, meter).startswith(
        "Показание 123,45 по счётчику № ХВ-1 (холодное водоснабжение) не принято: показание 5 меньше предыдущего (10 на 20.11.2026). Проверьте цифры")
    assert answer("duplicate", reading, meter).endswith("уже передано 20.12.2026, повторно отправлять не нужно.")
