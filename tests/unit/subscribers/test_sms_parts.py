"""SMS parts: 160 GSM-7 characters (153 per part when split), 70 UCS-2 characters (67 per part)."""

import pytest

from aquabill.channels.sms.parts import count_parts, sms_parts


@pytest.mark.parametrize(("text", "encoding", "units", "parts"), [
    ("", "gsm7", 0, 0),
    ("Code 123456", "gsm7", 11, 1),
    ("a" * 160, "gsm7", 160, 1),
    ("a" * 161, "gsm7", 161, 2),
    ("a" * 306, "gsm7", 306, 2),
    ("a" * 307, "gsm7", 307, 3),
    ("{" * 80, "gsm7", 160, 1),  # an extension character takes two septets
    ("{" * 81, "gsm7", 162, 2),
    ("Ж" * 70, "ucs2", 70, 1),
    ("Ж" * 71, "ucs2", 71, 2),
    ("Ж" * 134, "ucs2", 134, 2),
    ("Ж" * 135, "ucs2", 135, 3),
    ("Code 123456 ж", "ucs2", 13, 1),  # one Cyrillic letter makes the whole text UCS-2
    ("😀" * 35, "ucs2", 70, 1),  # outside the BMP: two UTF-16 units each
    ("😀" * 36, "ucs2", 72, 2),
])
def test_parts(text, encoding, units, parts):
    segments = count_parts(text)
    assert (segments.encoding, segments.units, segments.parts) == (encoding, units, parts)
    assert sms_parts(text) == parts


def test_the_confirmation_code_fits_one_part():
    from aquabill.subscribers.identity import phone_code_sms

    assert sms_parts(phone_code_sms("123456", "МУП «Водоканал г. Приозёрска»")) == 1
    assert sms_parts(phone_code_sms("123456", "Водоканал с очень длинным названием организации")) == 1
