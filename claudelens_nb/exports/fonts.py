"""Fonts for the PDF export: find TrueType fonts on the machine, register them with
reportlab, and split text into runs by which font has each character.

A font chain is a primary font followed by fallbacks (CJK, then symbols/emoji). A
character is drawn with the first font in its chain whose cmap has it; a character no
font has becomes U+FFFD (or "?"), and invisible format characters (zero-width joiners,
variation selectors) that no font has are dropped, so no text can crash the export.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFError, TTFont

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
# (registered name, file names to look for, fontconfig pattern)
_PRIMARY = {
    "CL-Sans": ("DejaVuSans.ttf", "DejaVu Sans:style=Book"),
    "CL-Sans-Bold": ("DejaVuSans-Bold.ttf", "DejaVu Sans:style=Bold"),
    "CL-Sans-Oblique": ("DejaVuSans-Oblique.ttf", "DejaVu Sans:style=Oblique"),
    "CL-Mono": ("DejaVuSansMono.ttf", "DejaVu Sans Mono:style=Book"),
    "CL-Mono-Bold": ("DejaVuSansMono-Bold.ttf", "DejaVu Sans Mono:style=Bold"),
}
# Standard PDF fonts used when DejaVu is missing (Latin-1 only).
_STANDARD = {
    "CL-Sans": "Helvetica", "CL-Sans-Bold": "Helvetica-Bold",
    "CL-Sans-Oblique": "Helvetica-Oblique", "CL-Mono": "Courier", "CL-Mono-Bold": "Courier-Bold",
}
# Fallbacks in order: CJK (TrueType outlines only: reportlab cannot embed CFF fonts), symbols.
_FALLBACK_FILES = (
    ("CL-CJK", ("DroidSansFallbackFull.ttf", "DroidSansFallback.ttf", "wqy-zenhei.ttc",
                "wqy-microhei.ttc"), ":lang=ja"),
    ("CL-Symbols", ("Symbola_hint.ttf", "Symbola.ttf"), "emoji"),
)
_LATIN1 = frozenset(range(0x20, 0x7F)) | frozenset(range(0xA0, 0x100))
_DROP = {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF}


@dataclass
class FontChain:
    """A primary font and its fallbacks, with each one's set of code points."""

    names: list[str]
    coverage: list[frozenset[int]] = field(repr=False)
    _memo: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def primary(self) -> str:
        return self.names[0]

    def font_index(self, ch: str) -> int:
        """Index of the font that draws `ch`, or -1 when none does."""
        idx = self._memo.get(ch)
        if idx is None:
            cp = ord(ch)
            idx = next((i for i, cov in enumerate(self.coverage) if cp in cov), -1)
            self._memo[ch] = idx
        return idx

    def clean(self, text: str) -> str:
        """`text` with every character some font can draw (others replaced or dropped)."""
        out = []
        for ch in text:
            if ch in "\n\t" or self.font_index(ch) >= 0:
                out.append(ch)
            elif _invisible(ch):
                continue
            else:
                out.append(self.replacement)
        return "".join(out)

    @property
    def replacement(self) -> str:
        return "\ufffd" if self.font_index("\ufffd") >= 0 else "?"

    def runs(self, text: str) -> list[tuple[str, str]]:
        """`text` as (font name, text) runs; unknown characters already replaced."""
        runs: list[tuple[str, str]] = []
        cur = -2
        buf: list[str] = []
        for ch in self.clean(text):
            idx = max(self.font_index(ch), 0)
            if idx != cur and buf:
                runs.append((self.names[cur], "".join(buf)))
                buf = []
            cur = idx
            buf.append(ch)
        if buf:
            runs.append((self.names[cur], "".join(buf)))
        return runs

    def markup(self, text: str) -> str:
        """`text` as escaped reportlab paragraph markup, fallback runs in <font> tags."""
        parts = []
        for name, run in self.runs(text):
            esc = escape(run)
            parts.append(esc if name == self.primary else f'<font name="{name}">{esc}</font>')
        return "".join(parts)

    def width(self, text: str, size: float) -> float:
        return sum(pdfmetrics.stringWidth(run, name, size) for name, run in self.runs(text))

    def draw(self, canv, x: float, y: float, text: str, size: float, align: str = "left") -> None:
        """Draw one line on a canvas with per-character font fallback."""
        runs = self.runs(text)
        if align != "left":
            w = sum(pdfmetrics.stringWidth(r, n, size) for n, r in runs)
            x -= w if align == "right" else w / 2
        for name, run in runs:
            canv.setFont(name, size)
            canv.drawString(x, y, run)
            x += pdfmetrics.stringWidth(run, name, size)


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap, with characters beyond U+FFFF as UTF-16 surrogate pairs.

    reportlab writes them as five hex digits, so text extraction turned 🚀 into another
    character; the glyphs were always right.
    """
    cmap = _REPORTLAB_CMAP(fontname, subset).split("\n")
    start = cmap.index(f"{len(subset)} beginbfchar") + 1
    for i, cp in enumerate(subset):
        if cp > 0xFFFF:
            cmap[start + i] = f"<{i:02X}> <{chr(cp).encode('utf-16-be').hex().upper()}>"
    return "\n".join(cmap)


_REPORTLAB_CMAP = ttfonts.makeToUnicodeCMap
ttfonts.makeToUnicodeCMap = _to_unicode_cmap


def _invisible(ch: str) -> bool:
    cp = ord(ch)
    return (cp in _DROP or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF
            or unicodedata.category(ch) in ("Cf", "Cc", "Mn"))


def _find_file(names: tuple[str, ...], pattern: str | None) -> Path | None:
    for name in names:
        for root in FONT_DIRS:
            if root.is_dir():
                hit = next(root.rglob(name), None)
                if hit:
                    return hit
    if pattern and shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", pattern, "file"], capture_output=True, text=True,
                                 timeout=10, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        for line in sorted(out.splitlines()):
            path = Path(line.split(":")[0].strip())
            if path.suffix.lower() in (".ttf", ".ttc"):
                return path
    return None


def _load(name: str, path: Path) -> TTFont | None:
    try:
        font = TTFont(name, str(path), subfontIndex=0) if path.suffix.lower() == ".ttc" \
            else TTFont(name, str(path))
    except (TTFError, OSError, ValueError):
        return None
    pdfmetrics.registerFont(font)
    return font


def _coverage(name: str) -> frozenset[int]:
    font = pdfmetrics.getFont(name)
    face = getattr(font, "face", None)
    cmap = getattr(face, "charToGlyph", None)
    return frozenset(cmap) if cmap is not None else _LATIN1


@cache
def _registered() -> dict[str, str]:
    """Register every font once; map our names to what was registered."""
    names: dict[str, str] = {}
    for name, (file_name, pattern) in _PRIMARY.items():
        path = _find_file((file_name,), pattern)
        names[name] = name if path and _load(name, path) else _STANDARD[name]
    for name, files, pattern in _FALLBACK_FILES:
        path = _find_file(files, pattern)
        if path and _load(name, path):
            names[name] = name
            for bold in (0, 1):
                for italic in (0, 1):
                    addMapping(name, bold, italic, name)
    sans, mono = names["CL-Sans"], names["CL-Mono"]
    # (bold, italic, face)
    sans_faces: tuple[tuple[Literal[0, 1], Literal[0, 1], str], ...] = (
        (0, 0, "CL-Sans"), (1, 0, "CL-Sans-Bold"), (0, 1, "CL-Sans-Oblique"), (1, 1, "CL-Sans-Bold"))
    mono_faces: tuple[tuple[Literal[0, 1], Literal[0, 1], str], ...] = (
        (0, 0, "CL-Mono"), (1, 0, "CL-Mono-Bold"), (0, 1, "CL-Mono"), (1, 1, "CL-Mono-Bold"))
    if sans == "CL-Sans":
        for bold, italic, face in sans_faces:
            addMapping(sans, bold, italic, names[face])
    if mono == "CL-Mono":
        for bold, italic, face in mono_faces:
            addMapping(mono, bold, italic, names[face])
    return names


@cache
def chain(kind: str = "sans") -> FontChain:
    """The font chain for "sans", "bold", "italic" or "mono" text."""
    names = _registered()
    first = {"sans": "CL-Sans", "bold": "CL-Sans-Bold", "italic": "CL-Sans-Oblique",
             "mono": "CL-Mono"}[kind]
    order = [names[first]]
    if kind == "mono":
        order.append(names["CL-Sans"])
    order += [names[n] for n in ("CL-CJK", "CL-Symbols") if n in names]
    order = list(dict.fromkeys(order))
    return FontChain(order, [_coverage(n) for n in order])


def available_fallbacks() -> list[str]:
    """Names of the fallback fonts found on this machine (for diagnostics)."""
    return [n for n in ("CL-CJK", "CL-Symbols") if n in _registered()]
