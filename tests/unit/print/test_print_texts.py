"""How figures and months read on the printed receipt; the layout's checks."""

from decimal import Decimal as D

import pytest

from aquabill.base.errors import Invalid
from aquabill.billing_core.periods import Period
from aquabill.channels.print import ReceiptLayout
from aquabill.channels.print.texts import money, month, tariff, volume


@pytest.mark.parametrize(("value", "shown"), [(D("0"), "0,00"), (D("1234.5"), "1 234,50"),
                                              (D("-45.2"), "−45,20"), (D("1234567.89"), "1 234 567,89")])
def test_money(value, shown):
    assert money(value) == shown


def test_volume_tariff_month():
    assert volume(D("10")) == "10,000" and volume(None) == ""
    assert tariff(D("52.3400")) == "52,34" and tariff(D("45.1234")) == "45,1234" and tariff(None) == ""
    assert month(Period(2026, 5)) == "май 2026 г." and month(Period(2019, 12)) == "декабрь 2019 г."


def test_layout():
    layout = ReceiptLayout(contact_lines="Абонентский отдел: 1\n\n  Аварийная: 2 \n")
    assert layout.contacts == ["Абонентский отдел: 1", "Аварийная: 2"]
    assert ReceiptLayout(notes="x" * 5000).notes  # long texts are cut on the page, not refused
    with pytest.raises(Invalid, match="PNG"):
        ReceiptLayout(logo_png=b"GIF89a...")
