"""The PDF export (FORMATS.md "PDF"): title page, table of contents with page numbers,
one section per conversation, headers and "Page N" on every page, Pygments-highlighted
code, distinct user/assistant turns, embedded document metadata, any script's text.

How it streams with memory bounded to about one conversation:

- reportlab keeps every page of a canvas in memory until `save()`, so the body is
  rendered in *parts*: a platypus document fed one conversation's flowables at a time
  (`_startBuild` / `handle_flowable` / `_endBuild`, the steps `build()` runs), closed once
  it holds `PART_PAGES` pages. Each finished part (a small PDF in memory) is copied into
  the output file at once by `_PdfJoiner`, which renumbers its objects and drops its
  catalog, page tree and info; only the page object numbers are kept.
- Page numbers are known while streaming because the front matter's length is fixed in
  advance: 1 title page plus ceil(total_conversations / TOC_ROWS) contents pages (the
  engine passes the count in `meta`). The body's first page is therefore page 2 + that,
  and each conversation's start page is recorded (`afterFlowable`) in a spooled temp file.
- `close()` renders the title page and the contents from that file (again in parts of at
  most `PART_PAGES` pages), copies them with clickable links from each contents row to its
  page (the page objects are known by then), writes the page tree
  (front pages first), an outline (bookmarks), the catalog, the info dictionary (title,
  author, subject, creator, creation date), the xref table and the trailer.
  If more conversations arrive than announced, contents rows are packed tighter so the
  reserved pages still hold them and every page number stays right.
"""

from __future__ import annotations

import gc
import hashlib
import io
import itertools
import json
import math
import re
import tempfile
from array import array
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from pygments import lex
from pygments.lexers import JsonLexer, TextLexer, get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.util import ClassNotFound
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
    XPreformatted,
)

from ..records import iso, to_json_value
from . import fonts
from .markdown import money, role_label

PAGE_W, PAGE_H = A4
MARGIN = 54.0
HEADER_H = 26.0
FRAME_W = PAGE_W - 2 * MARGIN
PART_PAGES = 150          # pages per in-memory part before it is flushed to the file
TOC_ROWS = 38             # contents rows per page at normal spacing
TEXT_CHUNK = 1500         # characters per paragraph piece (so a table row fits a page)
TEXT_LINES = 40           # and lines per piece
CODE_CHUNK = 45           # lines per code piece
CODE_SIZE = 7.6
TEXT_SIZE = 9.2
PYGMENTS_STYLE = "friendly"

TURN_COLOURS = {          # (bar, background)
    "user": ("#2563eb", "#eff6ff"),
    "assistant": ("#15803d", "#f0fdf4"),
    "tool_use": ("#b45309", "#fffbeb"),
    "tool_result": ("#6b7280", "#f9fafb"),
    "system": ("#7c3aed", "#f5f3ff"),
    "summary": ("#7c3aed", "#f5f3ff"),
}
CODE_BG = colors.HexColor("#eef2f7")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^\n]*$", re.M)
_INLINE = re.compile(r"`([^`\n]+)`|\*\*([^*\n]+)\*\*")


# ---------------------------------------------------------------- small helpers

def _when(ts: Any, fmt: str = "%Y-%m-%d %H:%M:%S UTC") -> str:
    return ts.strftime(fmt) if isinstance(ts, datetime) else "n/a"


def export_title(meta: Mapping[str, Any]) -> str:
    if meta.get("title"):
        return str(meta["title"])
    day = meta.get("export_date")
    return f"ClaudeLens Export - {_when(day, '%Y-%m-%d') if isinstance(day, datetime) else day}"


@cache
def _styles() -> dict[str, ParagraphStyle]:
    sans, bold, mono = fonts.chain("sans").primary, fonts.chain("bold").primary, \
        fonts.chain("mono").primary
    base = ParagraphStyle("text", fontName=sans, fontSize=TEXT_SIZE, leading=TEXT_SIZE * 1.35)
    return {
        "text": base,
        "label": ParagraphStyle("label", parent=base, fontSize=8.6, leading=11),
        "h1": ParagraphStyle("h1", parent=base, fontName=bold, fontSize=15, leading=19,
                             spaceAfter=8, textColor=colors.HexColor("#111827")),
        "h2": ParagraphStyle("h2", parent=base, fontName=bold, fontSize=10.5, leading=14,
                             spaceBefore=8, spaceAfter=4, textColor=colors.HexColor("#374151")),
        "meta": ParagraphStyle("meta", parent=base, fontSize=8.2, leading=10.5),
        "metakey": ParagraphStyle("metakey", parent=base, fontName=bold, fontSize=8.2,
                                  leading=10.5, textColor=colors.HexColor("#4b5563")),
        "code": ParagraphStyle("code", parent=base, fontName=mono, fontSize=CODE_SIZE,
                               leading=CODE_SIZE * 1.3),
        "title": ParagraphStyle("title", parent=base, fontName=bold, fontSize=26, leading=32,
                                alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=13, leading=18,
                                   alignment=TA_CENTER, textColor=colors.HexColor("#4b5563")),
    }


def _m(text: Any, kind: str = "sans") -> str:
    """Plain text as paragraph markup with font fallback."""
    return fonts.chain(kind).markup(str(text))


# ---------------------------------------------------------------- code highlighting

@cache
def _token_style(ttype: Any) -> tuple[str | None, bool, bool]:
    st = get_style_by_name(PYGMENTS_STYLE).style_for_token(ttype)
    return (f"#{st['color']}" if st.get("color") else None), bool(st.get("bold")), \
        bool(st.get("italic"))


def _lexer(lang: str | None):
    if lang:
        try:
            return get_lexer_by_name(lang.lower(), stripnl=False, ensurenl=False)
        except ClassNotFound:
            pass
    return TextLexer(stripnl=False, ensurenl=False)


@cache
def _char_width(ch: str) -> float:
    return fonts.chain("mono").width(ch, CODE_SIZE) or CODE_SIZE * 0.6


def highlighted_lines(code: str, lexer: Any, width: float) -> Iterator[str]:
    """Code as XPreformatted markup lines: tokens coloured, lines wrapped to `width`.

    Adjacent tokens of one style share a <font> tag (markup parsing is most of the cost).
    """
    chain = fonts.chain("mono")
    runs: list[list[Any]] = []          # [(colour, bold), text] of the current line
    used = 0.0

    def line() -> str:
        out = []
        for (colour, bold), text in runs:
            mk = chain.markup(text)
            if bold:
                mk = f"<b>{mk}</b>"
            out.append(f'<font color="{colour}">{mk}</font>' if colour else mk)
        runs.clear()
        return "".join(out)

    def add(style: tuple[str | None, bool], text: str) -> None:
        if not text.strip() and runs:
            style = runs[-1][0]
        if runs and runs[-1][0] == style:
            runs[-1][1] += text
        else:
            runs.append([style, text])

    for ttype, value in lex(code.expandtabs(4), lexer):
        colour, bold, _ = _token_style(ttype)
        for piece in re.split(r"(\n)", value):
            if piece == "\n":
                yield line()
                used = 0.0
                continue
            while piece:
                take, w = 0, used
                for ch in piece:
                    cw = _char_width(ch)
                    if w + cw > width and w > 0:
                        break
                    w += cw
                    take += 1
                if take:
                    add((colour, bold), piece[:take])
                    used = w
                piece = piece[take:]
                if piece:
                    yield line()
                    used = 0.0
    if runs:
        yield line()


def code_flowables(code: str, lang: str | None, width: float) -> list[Flowable]:
    """A code block as XPreformatted pieces of at most CODE_CHUNK lines."""
    lexer = JsonLexer() if lang == "json" else _lexer(lang)
    lines = list(highlighted_lines(code.rstrip("\n"), lexer, width - 2))
    out: list[Flowable] = []
    for i in range(0, max(len(lines), 1), CODE_CHUNK):
        out.append(XPreformatted("\n".join(lines[i:i + CODE_CHUNK]) or " ", _styles()["code"]))
    return out


# ---------------------------------------------------------------- message text

def _inline(text: str) -> str:
    """Prose as markup: `code` spans in mono, **bold**, line breaks kept."""
    out, pos = [], 0
    mono = fonts.chain("mono")
    for m in _INLINE.finditer(text):
        out.append(_m(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append(f'<font name="{mono.primary}" color="#9f1239">{mono.markup(m.group(1))}</font>')
        else:
            out.append(f"<b>{_m(m.group(2))}</b>")
        pos = m.end()
    out.append(_m(text[pos:]))
    return "".join(out).replace("\n", "<br/>")


def _nth_newline(text: str, n: int) -> int:
    pos = -1
    for _ in range(n):
        pos = text.find("\n", pos + 1)
        if pos < 0:
            return len(text)
    return pos


def _text_pieces(text: str) -> Iterator[str]:
    """Prose split at blank lines, then into pieces of at most TEXT_CHUNK characters
    and TEXT_LINES lines."""
    for para in re.split(r"\n[ \t]*\n", text):
        para = para.strip("\n")
        if not para.strip():
            continue
        while len(para) > TEXT_CHUNK or para.count("\n") >= TEXT_LINES:
            limit = min(TEXT_CHUNK, _nth_newline(para, TEXT_LINES) + 1)
            cut = para.rfind("\n", 0, limit)
            if cut < limit // 3:
                cut = para.rfind(" ", 0, limit)
            if cut < limit // 3:
                cut = limit
            yield para[:cut]
            para = para[cut:].lstrip("\n")
        yield para


def split_fenced(text: str) -> Iterator[tuple[str, str, str | None]]:
    """("text", prose, None) and ("code", code, lang) segments of a message."""
    pos = 0
    while True:
        m = _FENCE.search(text, pos)
        if not m:
            break
        fence = m.group(1)
        close = re.compile(rf"^[ \t]{{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.M)
        end = close.search(text, m.end())
        if m.start() > pos:
            yield "text", text[pos:m.start()], None
        body_start = m.end() + 1
        if end:
            yield "code", text[body_start:end.start()], m.group(2) or None
            pos = end.end()
        else:
            yield "code", text[body_start:], m.group(2) or None
            pos = len(text)
            break
    if pos < len(text):
        yield "text", text[pos:], None


def _body_rows(msg: Mapping[str, Any]) -> list[tuple[Flowable, bool]]:
    """A message's body as (flowable, is_code) rows."""
    width = FRAME_W - 24
    type_ = msg.get("type")
    content = (msg.get("content") or "").replace("\r\n", "\n").replace("\r", "\n")
    rows: list[tuple[Flowable, bool]] = []
    if type_ == "tool_use" and msg.get("tool_input") is not None:
        body = json.dumps(to_json_value(msg["tool_input"]), indent=2, ensure_ascii=False)
        return [(f, True) for f in code_flowables(body, "json", width)]
    if type_ == "tool_result":
        return [(f, True) for f in code_flowables(content or " ", None, width)]
    for kind, seg, lang in split_fenced(content):
        if kind == "code":
            rows += [(f, True) for f in code_flowables(seg, lang, width)]
        else:
            rows += [(Paragraph(_inline(p), _styles()["text"]), False) for p in _text_pieces(seg)]
    if not rows:
        rows.append((Paragraph('<font color="#6b7280"><i>(no text)</i></font>',
                               _styles()["text"]), False))
    return rows


def message_flowable(msg: Mapping[str, Any]) -> Table:
    """One turn: a coloured left bar and background, a label row, then the body rows."""
    type_ = msg.get("type") or "system"
    bar, bg = TURN_COLOURS.get(type_, TURN_COLOURS["system"])
    label = f'<font color="{bar}"><b>{_m(role_label(type_), "bold")}</b></font>'
    facts = [_when(msg.get("timestamp"), "%H:%M:%S")]
    if type_ == "tool_use" and msg.get("tool_name"):
        label += f'  <b>{_m(msg["tool_name"], "bold")}</b>'
    if msg.get("model") and type_ == "assistant":
        facts.append(str(msg["model"]))
    if msg.get("is_sidechain"):
        facts.append("sidechain")
    label += f'  <font color="#6b7280" size="7.6">{_m(" · ".join(facts))}</font>'
    rows = [(Paragraph(label, _styles()["label"]), False)] + _body_rows(msg)
    style = [
        ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(bg)),
        ("LINEBEFORE", (0, 0), (0, -1), 3, colors.HexColor(bar)),
        ("LEFTPADDING", (0, 0), (-1, -1), 9),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, 0), 4),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    for i, (_, is_code) in enumerate(rows):
        if is_code:
            style.append(("BACKGROUND", (0, i), (0, i), CODE_BG))
            style.append(("LEFTPADDING", (0, i), (0, i), 12))
    table = Table([[f] for f, _ in rows], colWidths=[FRAME_W], style=TableStyle(style),
                  hAlign="LEFT", splitByRow=1)
    table.spaceAfter = 6
    return table


class _ConversationStart(Spacer):
    """Zero-height marker whose placement records the page a conversation starts on."""

    def __init__(self, number: int, title: str) -> None:
        super().__init__(1, 0)
        self.number, self.title = number, title


def conversation_flowables(number: int, conv: Mapping[str, Any]) -> list[Flowable]:
    """A conversation's section: heading, facts table, summary, messages."""
    st = _styles()
    title = " ".join(str(conv.get("title") or "Untitled conversation").split())
    messages = conv.get("messages") or []
    facts = [
        ("ID", conv.get("id")), ("Project", conv.get("project_name")),
        ("Model", conv.get("model")), ("Messages", conv.get("message_count", len(messages))),
        ("Started", _when(conv.get("created_at"))), ("Ended", _when(conv.get("updated_at"))),
        ("Cost", money(conv.get("cost_usd"))), ("Tags", ", ".join(conv.get("tags") or []) or "none"),
    ]
    cells = [[Paragraph(_m(k, "bold"), st["metakey"]), Paragraph(_m(v if v is not None else "n/a"),
                                                                   st["meta"])] for k, v in facts]
    grid = [cells[i] + cells[i + 1] for i in range(0, len(cells), 2)]
    table = Table(grid, colWidths=[58, FRAME_W / 2 + 24 - 58, 58, FRAME_W / 2 - 24 - 58], hAlign="LEFT", style=TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#d1d5db")),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f3f4f6")),
        ("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#f3f4f6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    out: list[Flowable] = [_ConversationStart(number, title),
                           Paragraph(f"{number}. {_m(title, 'bold')}", st["h1"]), table]
    if conv.get("summary"):
        out += [Paragraph("Summary", st["h2"]), Paragraph(_inline(str(conv["summary"])), st["text"])]
    if messages:
        out.append(Paragraph("Messages", st["h2"]))
        out += [message_flowable(m) for m in messages]
    return out


# ---------------------------------------------------------------- page furniture

def draw_furniture(canv: rl_canvas.Canvas, page: int, title: str, right: str) -> None:
    """Header (export title, a right-hand note, a rule) and footer ("Page N")."""
    sans = fonts.chain("sans")
    canv.saveState()
    canv.setFillColor(colors.HexColor("#4b5563"))
    y = PAGE_H - MARGIN + 12
    room = FRAME_W - sans.width(right, 8) - 12
    sans.draw(canv, MARGIN, y, _fit(title, 8, room), 8)
    sans.draw(canv, PAGE_W - MARGIN, y, right, 8, align="right")
    canv.setStrokeColor(colors.HexColor("#d1d5db"))
    canv.setLineWidth(0.5)
    canv.line(MARGIN, y - 4, PAGE_W - MARGIN, y - 4)
    canv.line(MARGIN, MARGIN - 14, PAGE_W - MARGIN, MARGIN - 14)
    sans.draw(canv, PAGE_W / 2, MARGIN - 26, f"Page {page}", 8, align="centre")
    canv.restoreState()


def _fit(text: str, size: float, width: float, kind: str = "sans") -> str:
    """`text` cut with an ellipsis to fit `width` points."""
    chain = fonts.chain(kind)
    if chain.width(text, size) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if chain.width(text[:mid] + "…", size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


class _BodyPart(BaseDocTemplate):
    """One in-memory slice of the body, fed conversation by conversation."""

    def __init__(self, writer: PdfWriter, first_page: int) -> None:
        self.buffer = io.BytesIO()
        super().__init__(self.buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                         topMargin=MARGIN + HEADER_H - 14, bottomMargin=MARGIN,
                         invariant=1, pageCompression=1)
        self.writer, self.first_page = writer, first_page
        frame = Frame(MARGIN, MARGIN, FRAME_W, PAGE_H - 2 * MARGIN - HEADER_H + 14,
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate("body", [frame], onPage=self._furniture)])
        self._startBuild(self.buffer)
        self.canv._doctemplate = self
        self.conversations = 0

    def _furniture(self, canv: rl_canvas.Canvas, _doc: Any) -> None:
        draw_furniture(canv, self.first_page + canv.getPageNumber() - 1, self.writer.title,
                       self.writer.right_note)

    @property
    def pages(self) -> int:
        return self.canv.getPageNumber()

    def add(self, flowables: list[Flowable]) -> None:
        if self.conversations:
            flowables.insert(0, PageBreak())
        self.conversations += 1
        while flowables:
            self.clean_hanging()
            self.handle_flowable(flowables)

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, _ConversationStart):
            page = self.first_page + self.canv.getPageNumber() - 1
            self.writer._record_start(flowable.number, flowable.title, page)

    def finish(self) -> bytes:
        self._endBuild()
        return self.buffer.getvalue()


# ---------------------------------------------------------------- joining parts

_SCAN = re.compile(rb"\(|(?<!<)<(?!<)|(?<![\d.])(\d+) (\d+) R(?![A-Za-z])")
_OBJ = re.compile(rb"(\d+) (\d+) obj\s*")
_STREAM = re.compile(rb">>\s*stream\r?\n")


def _string_end(data: bytes, i: int) -> int:
    """End (exclusive) of the literal string that opens at data[i] == '('."""
    depth, j = 0, i
    while j < len(data):
        c = data[j]
        if c == 0x5C:
            j += 2
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return j


def renumber(data: bytes, mapping: Mapping[int, int]) -> bytes:
    """`data` (PDF object text, no stream) with every `N G R` reference mapped."""
    out, pos = bytearray(), 0
    while True:
        m = _SCAN.search(data, pos)
        if not m:
            break
        out += data[pos:m.start()]
        tok = m.group()
        if tok == b"(":
            end = _string_end(data, m.start())
        elif tok == b"<":
            end = data.index(b">", m.start()) + 1
        else:
            out += b"%d 0 R" % mapping[int(m.group(1))]
            pos = m.end()
            continue
        out += data[m.start():end]
        pos = end
    out += data[pos:]
    return bytes(out)


def _pdf_string(text: str) -> bytes:
    """A PDF text string: ASCII literal when safe, else UTF-16BE hex with a BOM."""
    if text.isascii() and text.isprintable():
        esc = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return f"({esc})".encode("ascii")
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def _pdf_date(dt: datetime) -> bytes:
    dt = dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)
    return _pdf_string(dt.strftime("D:%Y%m%d%H%M%S+00'00'"))


class _PdfJoiner:
    """Writes one PDF by appending reportlab-made PDFs object by object."""

    PAGES, CATALOG, INFO, OUTLINES = 1, 2, 3, 4

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.offsets = array("q", [0] * 5)
        self.pos = 0
        self._emit(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _emit(self, data: bytes) -> None:
        self.fh.write(data)
        self.pos += len(data)

    def new_id(self) -> int:
        self.offsets.append(0)
        return len(self.offsets) - 1

    def put(self, obj_id: int, body: bytes) -> None:
        self.offsets[obj_id] = self.pos
        self._emit(b"%d 0 obj\n" % obj_id + body + b"\nendobj\n")

    def append(self, pdf: bytes, annots: Mapping[int, bytes] | None = None) -> list[int]:
        """Copy `pdf`'s objects (all but catalog, page tree, info); return its page ids.

        `annots` maps a page index of `pdf` to an /Annots array to add to that page.
        """
        start = int(re.search(rb"startxref\s+(\d+)", pdf[-64:]).group(1))
        xref = pdf[start:]
        count = int(re.match(rb"xref\s+0 (\d+)", xref).group(1))
        entries = re.findall(rb"(\d{10}) \d{5} ([nf])", xref)[:count]
        trailer = xref[xref.index(b"trailer"):]
        root = int(re.search(rb"/Root (\d+) 0 R", trailer).group(1))
        info = int(re.search(rb"/Info (\d+) 0 R", trailer).group(1))
        used = sorted((int(off), i) for i, (off, kind) in enumerate(entries) if kind == b"n")
        bounds = {i: (off, used[k + 1][0] if k + 1 < len(used) else start)
                  for k, (off, i) in enumerate(used)}

        def obj(i: int) -> bytes:
            a, b = bounds[i]
            chunk = pdf[a:b]
            head = _OBJ.match(chunk)
            return chunk[head.end():chunk.rindex(b"endobj")].rstrip()

        pages_root = int(re.search(rb"/Pages (\d+) 0 R", obj(root)).group(1))
        kids = [int(k) for k in re.findall(rb"(\d+) 0 R", re.search(
            rb"/Kids\s*\[([^\]]*)\]", obj(pages_root)).group(1))]
        mapping = {pages_root: self.PAGES, root: self.CATALOG, info: self.INFO}
        for i in bounds:
            if i not in mapping:
                mapping[i] = self.new_id()
        page_index = {k: n for n, k in enumerate(kids)}
        for i in sorted(bounds):
            if i in (pages_root, root, info):
                continue
            body = obj(i)
            sm = _STREAM.search(body)
            head, rest = (body[:sm.start() + 2], body[sm.start() + 2:]) if sm else (body, b"")
            head = renumber(head, mapping)
            extra = (annots or {}).get(page_index.get(i, -1))
            if extra:
                head = head.rstrip()[:-2] + b" /Annots " + extra + b"\n>>"
            self.put(mapping[i], head + rest)
        return [mapping[k] for k in kids]

    def finish(self, pages: Iterator[int], n_pages: int, info: bytes,
               outline: Iterator[tuple[str, int]], n_outline: int, doc_id: bytes) -> None:
        """Page tree, outline (one bookmark per (title, page object)), catalog, info,
        xref, trailer."""
        kids = bytearray(b"<< /Type /Pages /Count %d /Kids [" % n_pages)
        for n, p in enumerate(pages):
            kids += b"%s%d 0 R" % (b"\n" if n % 12 == 0 else b" ", p)
        self.put(self.PAGES, bytes(kids) + b" ] >>")
        first = len(self.offsets)
        self.offsets.extend([0] * n_outline)
        last = first + n_outline - 1
        for obj_id, (title, page_obj) in zip(range(first, last + 1), outline, strict=True):
            links = b" /Prev %d 0 R" % (obj_id - 1) if obj_id > first else b""
            links += b" /Next %d 0 R" % (obj_id + 1) if obj_id < last else b""
            self.put(obj_id, b"<< /Title " + _pdf_string(title) + b" /Parent %d 0 R" % self.OUTLINES
                     + links + b" /Dest [ %d 0 R /XYZ null null null ] >>" % page_obj)
        if n_outline:
            self.put(self.OUTLINES, b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>"
                     % (first, last, n_outline))
        else:
            self.put(self.OUTLINES, b"<< /Type /Outlines /Count 0 >>")
        self.put(self.CATALOG, b"<< /Type /Catalog /Pages %d 0 R /Outlines %d 0 R "
                 b"/PageMode /UseOutlines >>" % (self.PAGES, self.OUTLINES))
        self.put(self.INFO, info)
        xref_at = self.pos
        out = bytearray(b"xref\n0 %d\n0000000000 65535 f \n" % len(self.offsets))
        for off in self.offsets[1:]:
            out += b"%010d 00000 n \n" % off
        out += (b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [ <%s> <%s> ] >>\n"
                b"startxref\n%d\n%%%%EOF\n" % (len(self.offsets), self.CATALOG, self.INFO,
                                               doc_id, doc_id, xref_at))
        self._emit(bytes(out))


# ---------------------------------------------------------------- the writer

class PdfWriter:
    """Writes the PDF export; holds one conversation's flowables and one part at a time."""

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.path = Path(path)
        self.meta = meta
        self.title = export_title(meta)
        export_date = meta.get("export_date")
        self.export_date = export_date if isinstance(export_date, datetime) else datetime.now(UTC)
        self.right_note = f"{self.export_date:%Y-%m-%d} · claudelens_nb"
        expected = int(meta.get("total_conversations") or 0)
        self.toc_pages = max(1, math.ceil(expected / TOC_ROWS))
        self.front_pages = 1 + self.toc_pages
        self.count = 0
        self.body_pages = 0
        self._fh: BinaryIO | None = self.path.open("wb")
        self._joiner = _PdfJoiner(self._fh)
        self._page_ids = tempfile.TemporaryFile()  # noqa: SIM115 - closed in _cleanup
        self._starts = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed in _cleanup
            max_size=1 << 20, mode="w+", encoding="utf-8")
        self._part: _BodyPart | None = None

    # -- streaming the body

    def write(self, conversations: list[dict[str, Any]]) -> None:
        if self._fh is None:
            raise RuntimeError("PdfWriter is closed")
        for conv in conversations:
            self.count += 1
            if self._part is None:
                self._part = _BodyPart(self, self.front_pages + self.body_pages + 1)
            self._part.add(conversation_flowables(self.count, conv))
            if self._part.pages >= PART_PAGES:
                self._flush_part()

    def _record_start(self, number: int, title: str, page: int) -> None:
        self._starts.write(json.dumps([number, title, page], ensure_ascii=False) + "\n")

    def _flush_part(self) -> None:
        part, self._part = self._part, None
        if part is None:
            return
        ids = self._joiner.append(part.finish())
        del part
        gc.collect()  # a part is a web of cycles (doc, canvas, templates); free it now
        self.body_pages += len(ids)
        self._page_ids.write(array("q", ids).tobytes())

    def _body_page_ids(self) -> Iterator[int]:
        self._page_ids.seek(0)
        while block := self._page_ids.read(8 * 4096):
            yield from array("q", block)

    def _starts_iter(self) -> Iterator[tuple[int, str, int]]:
        self._starts.seek(0)
        for line in self._starts:
            number, title, page = json.loads(line)
            yield number, title, page

    # -- front matter and finishing

    def close(self) -> None:
        if self._fh is None:
            return
        self._flush_part()
        body_ids = array("q", self._body_page_ids())  # 8 bytes a page
        front_ids: list[int] = []
        for pdf, links in self._front_parts():
            front_ids += self._joiner.append(pdf, annots=self._annots(links, body_ids))
        outline = ((f"{n}. {t}", body_ids[p - self.front_pages - 1])
                   for n, t, p in self._starts_iter())
        doc_id = hashlib.md5(f"{self.title}{iso(self.export_date)}{self.count}".encode()).hexdigest()
        self._joiner.finish(itertools.chain(front_ids, body_ids), len(front_ids) + len(body_ids),
                            self._info(), outline, self.count, doc_id.encode())
        self._fh.close()
        self._fh = None
        self._cleanup()

    def abort(self) -> None:
        self._part = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self._cleanup()

    def _cleanup(self) -> None:
        self._page_ids.close()
        self._starts.close()

    def _info(self) -> bytes:
        m = self.meta
        subject = (f"ClaudeLens conversations export: {self.count} conversations, "
                   f"{m.get('total_messages', 0)} messages, total cost "
                   f"{money(m.get('total_cost_usd') or 0)}")
        fields = [(b"Title", _pdf_string(self.title)), (b"Author", _pdf_string("claudelens_nb")),
                  (b"Subject", _pdf_string(subject)),
                  (b"Creator", _pdf_string(str(m.get("generator") or "claudelens_nb"))),
                  (b"Producer", _pdf_string("ReportLab via claudelens_nb")),
                  (b"Keywords", _pdf_string("ClaudeLens, conversations, export")),
                  (b"CreationDate", _pdf_date(self.export_date)),
                  (b"ModDate", _pdf_date(self.export_date))]
        return b"<< " + b" ".join(b"/" + k + b" " + v for k, v in fields) + b" >>"

    def _annots(self, links: dict[int, list[tuple[tuple[float, ...], int]]],
                body_ids: array) -> dict[int, bytes]:
        out = {}
        for page, items in links.items():
            rects = [b"<< /Type /Annot /Subtype /Link /Border [ 0 0 0 ] /Rect [ %.1f %.1f %.1f %.1f ]"
                     % rect + b" /Dest [ %d 0 R /XYZ null null null ] >>"
                     % body_ids[target - self.front_pages - 1]
                     for rect, target in items if 0 <= target - self.front_pages - 1 < len(body_ids)]
            if rects:
                out[page] = b"[ " + b" ".join(rects) + b" ]"
        return out

    def _front_parts(self) -> Iterator[tuple[bytes, dict[int, list[tuple[tuple[float, ...], int]]]]]:
        """Title page and contents as PDFs of at most PART_PAGES pages, with the link
        rectangles of their contents rows (by page index within each PDF)."""
        entries = self._starts_iter()
        per_page = max(TOC_ROWS, math.ceil(self.count / self.toc_pages))
        page = 0
        while page < self.toc_pages:
            buf = io.BytesIO()
            canv = rl_canvas.Canvas(buf, pagesize=A4, invariant=1, pageCompression=1)
            links: dict[int, list[tuple[tuple[float, ...], int]]] = {}
            offset = 0
            if page == 0:
                self._title_page(canv)
                offset = 1
            for index in range(offset, PART_PAGES):
                if page >= self.toc_pages:
                    break
                links[index] = self._contents_page(canv, page, per_page, entries)
                page += 1
            canv.save()
            yield buf.getvalue(), links

    def _title_page(self, canv: rl_canvas.Canvas) -> None:
        st, m = _styles(), self.meta
        draw_furniture(canv, 1, self.title, self.right_note)
        y = PAGE_H - 190
        for text, style in ((_m("ClaudeLens Export", "bold"), st["title"]),
                            (_m(self.title), st["subtitle"])):
            p = Paragraph(text, style)
            _, h = p.wrapOn(canv, FRAME_W, 200)
            p.drawOn(canv, MARGIN, y - h)
            y -= h + 14
        rng = m.get("date_range") or {}
        filters = {k: v for k, v in (m.get("filters") or {}).items() if v not in (None, [], {}, "")}
        rows = [
            ("Exported", _when(self.export_date)),
            ("Conversations", f"{int(m.get('total_conversations') or self.count):,}"),
            ("Messages", f"{int(m.get('total_messages') or 0):,}"),
            ("Total cost", money(m.get("total_cost_usd") or 0)),
            ("Date range", f"{rng.get('start') or 'n/a'}  to  {rng.get('end') or 'n/a'}"),
            ("Filters", "; ".join(f"{k}: {json.dumps(to_json_value(v), ensure_ascii=False)}"
                                  for k, v in filters.items()) or "none (all conversations)"),
            ("Generator", m.get("generator") or "claudelens_nb"),
        ]
        table = Table([[Paragraph(_m(k, "bold"), st["metakey"]), Paragraph(_m(v), st["meta"])]
                       for k, v in rows], colWidths=[95, FRAME_W - 150], hAlign="CENTER",
                      style=TableStyle([
                          ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#d1d5db")),
                          ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                          ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        w, h = table.wrapOn(canv, FRAME_W, 400)
        table.drawOn(canv, MARGIN + (FRAME_W - w) / 2, y - 30 - h)
        canv.showPage()

    def _contents_page(self, canv: rl_canvas.Canvas, page: int, per_page: int,
                       entries: Iterator[tuple[int, str, int]]) -> list[tuple[tuple[float, ...], int]]:
        """Contents page `page` (0-based): up to `per_page` rows, packed tighter when more
        conversations arrived than announced so the reserved pages hold them all."""
        top = PAGE_H - MARGIN - HEADER_H - 34
        leading = min(16.0, (top - MARGIN) / per_page)
        size = min(9.0, leading * 0.78)
        draw_furniture(canv, 2 + page, self.title, self.right_note)
        canv.setFillColor(colors.HexColor("#111827"))
        fonts.chain("bold").draw(canv, MARGIN, top + 14,
                                 "Contents" if page == 0 else "Contents (continued)", 15)
        if page == 0 and not self.count:
            fonts.chain("sans").draw(canv, MARGIN, top - 14,
                                     "No conversations match this export.", 10)
        links = []
        y = top - 8
        for n, title, target in itertools.islice(entries, per_page):
            y -= leading
            self._toc_row(canv, y, size, n, title, target)
            links.append(((MARGIN, y - 2, PAGE_W - MARGIN, y + size), target))
        canv.showPage()
        return links

    def _toc_row(self, canv: rl_canvas.Canvas, y: float, size: float, n: int, title: str,
                 target: int) -> None:
        sans = fonts.chain("sans")
        label, num = f"{n}.", str(target)
        num_w = sans.width(num, size)
        x = MARGIN + sans.width("00000.", size)
        room = PAGE_W - MARGIN - num_w - 24 - x
        text = _fit(title, size, room)
        canv.setFillColor(colors.HexColor("#111827"))
        sans.draw(canv, x - 4, y, label, size, align="right")
        sans.draw(canv, x, y, text, size)
        canv.setFillColor(colors.HexColor("#9ca3af"))
        dots_from = x + sans.width(text, size) + 6
        dot_w = sans.width(".", size) * 1.6
        dots = max(0, int((PAGE_W - MARGIN - num_w - 6 - dots_from) / dot_w))
        if dots:
            leader = canv.beginText(dots_from, y)
            leader.setFont(sans.primary, size)
            leader.setCharSpace(dot_w - sans.width(".", size))
            leader.textOut("." * dots)
            leader.setCharSpace(0)  # text state outlives BT/ET; reset it for the next rows
            canv.drawText(leader)
        canv.setFillColor(colors.HexColor("#111827"))
        sans.draw(canv, PAGE_W - MARGIN, y, num, size, align="right")
