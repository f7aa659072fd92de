"""Reading a rendered PDF back as a person's tools would: poppler's pdftoppm / pdftotext and zbar's zbarimg
(Debian poppler-utils and zbar-tools, installed by infra/scripts/ensure-system-deps.sh)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def raster(pdf: bytes, folder: Path, page: int = 1, dpi: int = 200) -> Path:
    """The page as a PNG."""
    src = folder / "receipts.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                    str(src), str(folder / f"page{page}")], check=True, capture_output=True)
    return folder / f"page{page}.png"


def codes(png: Path, symbology: str) -> list[bytes]:
    """The payloads zbarimg finds of one symbology ('qrcode' as raw bytes, 'code128'), one per symbol."""
    flags = ["-Sdisable", f"-S{symbology}.enable"] + (["-Sqrcode.binary"] if symbology == "qrcode" else [])
    out = subprocess.run(["zbarimg", "--raw", "-q", *flags, str(png)], capture_output=True, check=False).stdout
    if symbology == "qrcode":  # binary mode: the bytes as they are in the symbol (one symbol a page here)
        return [out.removesuffix(b"\n")] if out else []
    return [line for line in out.split(b"\n") if line]


def text(pdf: bytes, folder: Path, *, page: int | None = None, box: tuple[float, float, float, float] | None = None,
         layout: bool = False) -> str:
    """pdftotext of the document, a page, or a box (x, y, width, height in millimetres from the top left)."""
    src = folder / "text.pdf"
    src.write_bytes(pdf)
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else [])
    if page:
        args += ["-f", str(page), "-l", str(page)]
    if box:
        x, y, w, h = (round(v * 72 / 25.4) for v in box)  # at -r 72 a pixel is a point
        args += ["-r", "72", "-x", str(x), "-y", str(y), "-W", str(w), "-H", str(h)]
    return subprocess.run([*args, str(src), "-"], capture_output=True, check=True).stdout.decode()


def pages(pdf: bytes, folder: Path) -> int:
    src = folder / "info.pdf"
    src.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(src)], capture_output=True, check=True).stdout.decode()
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
