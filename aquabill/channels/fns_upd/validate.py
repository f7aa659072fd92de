"""Validation of a UPD / invoice exchange file (seller's title, format 5.03): the shipped FNS XSD, then the
checks the XSD cannot express (`checks.py`). Problems come back as `Problem(path, message)` with the element's
XPath and a Russian message; `ensure_valid` raises `Invalid` listing them.

The schema is `xsd/ON_NSCHFDOPPR_1_997_01_05_03_05.xsd` (see `xsd/SOURCES.md`), read once per process and
compiled once per thread (an lxml validator keeps its error log in itself: one instance is not shared between
threads). Building and validating a two-line document takes about 0.7 ms on the development machine.
libxml2 reports in English; the usual messages are rendered in Russian here, anything else is kept after a
Russian prefix so that nothing is lost.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from importlib.resources import files

from lxml import etree

from aquabill.base.errors import Invalid
from aquabill.channels.fns_upd.checks import Problem, run_checks

SCHEMA_FILE = "ON_NSCHFDOPPR_1_997_01_05_03_05.xsd"
_MAX_SHOWN = 20  # problems listed in the Invalid message; all are in its `fields`


_local = threading.local()


@lru_cache(maxsize=8)
def _schema_bytes(name: str) -> bytes:
    return files("aquabill.channels.fns_upd").joinpath("xsd", name).read_bytes()


def shipped_schema(name: str) -> etree.XMLSchema:
    """This thread's compiled schema of the shipped XSD file `name` (UPD, UKD, reconciliation act …)."""
    compiled = getattr(_local, "schemas", None)
    if compiled is None:
        compiled = _local.schemas = {}
    if name not in compiled:
        compiled[name] = etree.XMLSchema(etree.fromstring(_schema_bytes(name)))
    return compiled[name]


def schema() -> etree.XMLSchema:
    """This thread's compiled schema of the UPD 5.03 seller's title."""
    return shipped_schema(SCHEMA_FILE)


def validate(content: bytes, file_name: str | None = None) -> list[Problem]:
    """Every problem of the file `content` (empty when valid). `file_name`, when given, must equal @ИдФайл
    (with or without `.xml`)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        return [Problem(f"строка {exc.lineno}", f"файл не является корректным XML: {exc.msg}")]
    return validate_tree(root, file_name)


def parse_checked(content: bytes, xsd: etree.XMLSchema) -> tuple[etree._Element | None, list[Problem]]:
    """The file parsed safely (no entities, no network) and its problems against `xsd`; (None, [why]) when the
    content is not XML at all."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        return None, [Problem(f"строка {exc.lineno}", f"файл не является корректным XML: {exc.msg}")]
    return root, ([] if xsd.validate(root) else [xsd_problem(entry) for entry in xsd.error_log])


def validate_tree(root: etree._Element, file_name: str | None = None) -> list[Problem]:
    """`validate` of a parsed (or just built) document."""
    problems: list[Problem] = []
    xsd = schema()
    if not xsd.validate(root):
        problems.extend(xsd_problem(entry) for entry in xsd.error_log)
    problems.extend(run_checks(root, file_name))
    return problems


def ensure_valid(content: bytes, file_name: str | None = None) -> None:
    _raise_if(validate(content, file_name))


def ensure_valid_tree(root: etree._Element, file_name: str | None = None) -> None:
    """`ensure_valid` of the tree a builder made, before it is serialised: the same schema and checks without
    parsing the bytes back (serialising a valid tree gives the same document: character references for what
    windows-1251 lacks, whitespace between elements that the schema ignores)."""
    _raise_if(validate_tree(root, file_name))


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        shown = "; ".join(str(p) for p in problems[:_MAX_SHOWN])
        more = f" (и ещё {len(problems) - _MAX_SHOWN})" if len(problems) > _MAX_SHOWN else ""
        raise Invalid(f"Документ не соответствует формату ФНС 5.03: {shown}{more}", field="xml",
                      fields=[{"field": p.path, "message": p.message} for p in problems])


_FACETS = {
    "enumeration": "не входит в список допустимых значений",
    "pattern": "не соответствует формату",
    "length": "имеет недопустимую длину",
    "minLength": "короче допустимого",
    "maxLength": "длиннее допустимого",
    "totalDigits": "содержит слишком много цифр",
    "fractionDigits": "содержит слишком много знаков после запятой",
    "minInclusive": "меньше допустимого",
    "minExclusive": "меньше допустимого или равно границе",
    "maxInclusive": "больше допустимого",
    "maxExclusive": "больше допустимого или равно границе",
}
_FACET = re.compile(r"^Element '([^']+)'(?:, attribute '([^']+)')?: \[facet '(\w+)'\] The value '([^']*)'")
_REQUIRED = re.compile(r"^Element '([^']+)': The attribute '([^']+)' is required but missing")
_NOT_ALLOWED = re.compile(r"^Element '([^']+)', attribute '([^']+)': The attribute '[^']+' is not allowed")
_UNEXPECTED = re.compile(r"^Element '([^']+)': This element is not expected\.(?: Expected is (?:one of )?\( ?(.*?) ?\))?")
_MISSING = re.compile(r"^Element '([^']+)': Missing child element\(s\)\. Expected is (?:one of )?\( ?(.*?) ?\)")
_ATOMIC = re.compile(r"^Element '([^']+)'(?:, attribute '([^']+)')?: '([^']*)' is not a valid value of the "
                     r"(?:atomic|local atomic) type '([^']+)'")
_TYPES = {"xs:decimal": "число", "xs:integer": "целое число", "xs:date": "дата"}


def xsd_problem(entry) -> Problem:
    path = entry.path or f"строка {entry.line}"
    message = entry.message.strip()
    if m := _FACET.match(message):
        element, attr, facet, value = m.groups()
        where = f"{path}/@{attr}" if attr else path
        return Problem(where, f"значение «{value}» {_FACETS.get(facet, f'нарушает ограничение {facet}')}")
    if m := _REQUIRED.match(message):
        return Problem(f"{path}/@{m[2]}", f"не указан обязательный атрибут {m[2]} элемента {m[1]}")
    if m := _NOT_ALLOWED.match(message):
        return Problem(f"{path}/@{m[2]}", f"атрибут {m[2]} не допускается в элементе {m[1]}")
    if m := _UNEXPECTED.match(message):
        expected = f"; ожидается: {_names(m[2])}" if m[2] else ""
        return Problem(path, f"элемент {m[1]} здесь не допускается{expected}")
    if m := _MISSING.match(message):
        return Problem(path, f"в элементе {m[1]} не хватает обязательного элемента: {_names(m[2])}")
    if m := _ATOMIC.match(message):
        element, attr, value, kind = m.groups()
        where = f"{path}/@{attr}" if attr else path
        return Problem(where, f"значение «{value}» не {_TYPES.get(kind, 'допустимого типа ' + kind)}")
    return Problem(path, f"ошибка по схеме XSD: {message}")


def _names(listing: str) -> str:
    return " или ".join(n.strip() for n in listing.split(",") if n.strip())
