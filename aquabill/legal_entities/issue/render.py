"""The port through which issuing gets its XML: the domain builds typed documents (`documents.Document`, or a
UKD's `ukd.Correction`), a renderer turns a batch of them into FNS files, each validated against its XSD.

Domain packages may not import channels (pyproject, import-linter), so the renderer is plugged in: the adapter
`aquabill.channels.fns_upd.issue_xml` registers itself with `use_renderer` when imported (the job catalogue
imports it in the app and the worker); a process that never imported it (a script, the bench) gets it imported
by name on first use — the one place the domain names an adapter, as a plugin.
"""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

DEFAULT_ADAPTER = "aquabill.channels.fns_upd.issue_xml"
# the namespace of document GUIDs — the same as `aquabill.channels.fns_upd.naming.NAMESPACE`, fixed forever
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "aquabill:fns-upd")
# an EDO participant id as the file name needs it (as `naming._PARTICIPANT`)
EDO_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{3,45}$")


def document_guid(key: str) -> uuid.UUID:
    """A GUID from a stable key: the same document → the same file id."""
    return uuid.uuid5(GUID_NAMESPACE, key)


@dataclass(frozen=True, slots=True)
class XmlJob:
    # documents.Document, already passed through documents.check_document (the renderer does not repeat it), or
    # ukd.Correction for a correction document (its format_version, 5.01 or 5.02, picks the FNS format)
    document: Any
    formed_at: datetime
    guid: UUID


@dataclass(frozen=True, slots=True)
class XmlFile:
    file_name: str  # = @ИдФайл + ".xml"
    content: bytes  # windows-1251, valid against the XSD


Renderer = Callable[[Sequence[XmlJob]], list[XmlFile]]
_renderer: Renderer | None = None
_warm_up: Callable[[int], None] | None = None


def use_renderer(fn: Renderer, warm_up: Callable[[int], None] | None = None) -> None:
    """Plug the renderer in; `warm_up(count)`, when given, is told ahead how many files are coming (so that a
    renderer with worker processes starts them while the caller still reads the database)."""
    global _renderer, _warm_up
    _renderer, _warm_up = fn, warm_up


def warm_up(count: int) -> None:
    """Non-blocking: prepare the renderer for about `count` files."""
    renderer()
    if _warm_up is not None:
        _warm_up(count)


def renderer() -> Renderer:
    if _renderer is None:
        importlib.import_module(DEFAULT_ADAPTER)
    assert _renderer is not None, f"{DEFAULT_ADAPTER} did not register a renderer"
    return _renderer
