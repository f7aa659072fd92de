"""Where a printing's files are kept and how they are written: `<var_dir>/receipts/<tenant slug>/<batch id>/`,
each file written to a temporary name, flushed to disk and renamed over the final one, so a file is either
absent, the old one or the whole new one (a half-written file of a killed job is replaced on the rerun)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from uuid import UUID

from aquabill.base.errors import NotFound


def batch_dir(var_dir: Path, tenant_slug: str, batch_id: UUID) -> Path:
    return Path(var_dir) / "receipts" / tenant_slug / str(batch_id)


def write_atomic(path: Path, data: bytes) -> str:
    """Write the bytes as `path` (tmp + fsync + rename); returns their SHA-256 (hex)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()


def finish_atomic(tmp: Path, path: Path) -> str:
    """A file written by the caller at `tmp` becomes `path`; returns its SHA-256."""
    digest = hashlib.sha256()
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    os.replace(tmp, path)
    return digest.hexdigest()


def stored_file(folder: Path, name: str) -> Path:
    """A file of the batch's folder by its recorded name (never a path from outside the folder)."""
    path = folder / name
    if "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        raise NotFound("Файл печати не найден на диске: запустите печать заново")
    return path
