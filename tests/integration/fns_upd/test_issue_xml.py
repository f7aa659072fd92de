"""The issuing renderer (`channels/fns_upd/issue_xml.py`): a batch large enough for the worker processes gives,
in order, the same files as building each in this process, every one valid against the XSD when its stored
bytes are parsed again; the tree validated before serialising judges as the bytes do; the seller's block built
once per process is that seller's (never another's)."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

import pytest
from lxml import etree

from aquabill.base.errors import Invalid
from aquabill.channels.fns_upd import issue_xml, validate
from aquabill.channels.fns_upd.upd import build_upd, upd_tree
from aquabill.channels.fns_upd.validate import ensure_valid_tree, validate_tree
from aquabill.legal_entities.issue.render import XmlJob

from .docs import BUYER, FORMED_AT, SELLER, SOLE_TRADER, two_rates_upd, water_upd


def _jobs(count: int) -> list[XmlJob]:
    makes = (water_upd, two_rates_upd, lambda: water_upd(buyer=SOLE_TRADER))
    return [XmlJob(replace(makes[i % 3](), number=f"ВК-{i + 1}"), FORMED_AT, UUID(int=i + 1)) for i in range(count)]


def test_a_pooled_batch_equals_building_each_here_and_is_valid(monkeypatch):
    monkeypatch.setenv("AQUABILL_XML_WORKERS", "2")
    jobs = _jobs(issue_xml.POOL_FROM + 11)
    issue_xml.warm_up(len(jobs))
    try:
        pooled = issue_xml.render_all(jobs)
    finally:
        issue_xml.shutdown()
    here = [issue_xml.render_one(j) for j in jobs]
    assert pooled == here
    for job, f in zip(jobs, pooled, strict=True):
        assert validate(f.content, f.file_name) == []
        root = etree.fromstring(f.content)
        assert root.find("Документ/СвСчФакт").get("НомерДок") == job.document.number
        assert f.content == build_upd(job.document, formed_at=FORMED_AT, guid=job.guid).content


def test_the_tree_is_judged_as_its_bytes():
    file_id, root = upd_tree(water_upd(), formed_at=FORMED_AT, guid=UUID(int=7))
    root.find("Документ/СвСчФакт/СвПокуп/ИдСв/СвЮЛУч").set("ИННЮЛ", "5003001115")
    content = etree.tostring(root, xml_declaration=True, encoding="windows-1251", pretty_print=True)
    assert validate_tree(root, file_id.file_name) == validate(content, file_id.file_name) != []
    with pytest.raises(Invalid, match="неверное контрольное число"):
        ensure_valid_tree(root, file_id.file_name)


def test_the_sellers_block_is_each_sellers_own():
    other = replace(SELLER, name="МУП «Горводоканал»")
    for seller in (SELLER, other, SELLER):
        file_id, root = upd_tree(replace(water_upd(), seller=seller), formed_at=FORMED_AT)
        assert root.find("Документ/СвСчФакт/СвПрод/ИдСв/СвЮЛУч").get("НаимОрг") == seller.name
        assert root.find("Документ/СвСчФакт/СвПокуп/ИдСв/СвЮЛУч").get("НаимОрг") == BUYER.name
        assert validate_tree(root, file_id.file_name) == []
