"""The PDF export (docs/formats.md, "PDF"): title page, table of contents with page numbers,
one section per conversation, headers and "Page N" on every page, Pygments-highlighted
code, distinct user/assistant turns, embedded document metadata, any script's text.

How it streams with memory bounded to about one part (whatever the export's size):

- reportlab keeps every page of a document in memory until it is saved, so the body is
  rendered in *parts*: conversations are gathered until they hold about `PART_CHARS`
  characters of text, then rendered with platypus's public `BaseDocTemplate.build()` into
  a small PDF in memory. Each conversation enters the story as a `_Section` that becomes
  its flowables only when platypus reaches it (the Flowable protocol's `split()`), so one
  conversation's flowables exist at a time. The page each conversation starts on is
  recorded by `afterFlowable` (the hook reportlab's own table of contents uses) in a
  spooled temp file; every page's header and "Page N" come from the part's first page.
- Each finished part is copied into the output file at once by `_PdfFile`: pypdf reads the
  part (`PdfReader`) and serialises its objects (`write_to_stream`) under new object
  numbers, starting from its pages and following references; the part's pages get a page
  tree node of their own. So the output file grows part by part and nothing but the page
  object numbers (8 bytes a page) outlives a part. A join by pypdf's or pikepdf's own
  writer would be shorter but holds the whole document until it is saved (measured:
  ~690 and ~560 MB for 25,000 pages), which is what the parts are there to avoid.
- Page numbers are known while streaming because the front matter's length is fixed in
  advance: 1 title page plus ceil(total_conversations / TOC_ROWS) contents pages (the
  engine passes the count in `meta`). The body's first page is therefore page 2 + that.
- `close()` renders the title page and the contents with reportlab's canvas from the
  recorded starts (in parts of at most `PART_PAGES` pages), adds a link from each contents
  row to its page, and writes the root page tree (front matter first), an outline
  (bookmarks), the catalog, the info dictionary (title, author, subject, creator,
  creation date), the cross-reference table and the trailer.
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
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from pygments import lex
from pygments.lexers import JsonLexer, TextLexer, get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.util import ClassNotFound
from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)
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
PART_CHARS = 1_000_000    # characters of text per body part (about 200 pages) in memory
PART_PAGES = 150          # contents pages per front matter part
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
    style: list[tuple[Any, ...]] = [  # TableStyle commands: (name, start, end, *values)
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


class _Section(Flowable):
    """A conversation's section, made only when platypus reaches it, so one conversation's
    flowables exist at a time however many a part holds. It asks for more room than there
    is, so the frame splits it (the Flowable protocol's `split()`), and the split is the
    section's flowables."""

    def __init__(self, number: int, conv: Mapping[str, Any],
                 on_made: Callable[[int, Mapping[str, Any]], None] | None = None) -> None:
        super().__init__()
        self.number, self.conv, self.on_made = number, conv, on_made

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        return availWidth, availHeight + 1

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        if self.on_made is not None:  # progress, and the export's Cancel, while a part is built
            self.on_made(self.number, self.conv)
        return conversation_flowables(self.number, self.conv)

    def draw(self) -> None:  # never drawn: always split
        pass


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
    """One slice of the body, built with platypus's public `build()` into memory."""

    def __init__(self, first_page: int, title: str, right_note: str) -> None:
        self.buffer = io.BytesIO()
        super().__init__(self.buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                         topMargin=MARGIN + HEADER_H - 14, bottomMargin=MARGIN,
                         invariant=1, pageCompression=1)
        self.first_page, self.export_title, self.right_note = first_page, title, right_note
        self.starts: list[tuple[int, str, int]] = []
        frame = Frame(MARGIN, MARGIN, FRAME_W, PAGE_H - 2 * MARGIN - HEADER_H + 14,
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate("body", [frame], onPage=self._furniture)])

    def _furniture(self, canv: rl_canvas.Canvas, _doc: Any) -> None:
        draw_furniture(canv, self.first_page + canv.getPageNumber() - 1, self.export_title,
                       self.right_note)

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, _ConversationStart):
            self.starts.append((flowable.number, flowable.title,
                                self.first_page + self.canv.getPageNumber() - 1))

    def render(self, story: list[Flowable]) -> bytes:
        self.build(story)
        return self.buffer.getvalue()


# ---------------------------------------------------------------- writing the file

Links = dict[int, list[tuple[tuple[float, ...], int]]]  # page index: (rectangle, target)


def _ref(obj_id: int) -> IndirectObject:
    return IndirectObject(obj_id, 0, None)


def _names(**items: PdfObject) -> DictionaryObject:
    return DictionaryObject({NameObject("/" + k): v for k, v in items.items()})


def _pdf_date(dt: datetime) -> TextStringObject:
    dt = dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)
    return TextStringObject(dt.strftime("D:%Y%m%d%H%M%S+00'00'"))


def _dest(page_obj: int) -> ArrayObject:
    return ArrayObject([_ref(page_obj), NameObject("/XYZ"), NullObject(), NullObject(),
                        NullObject()])


class _PdfFile:
    """One PDF written object by object as parts arrive; pypdf reads the parts and
    serialises every object, this class only numbers them and writes the file's frame
    (header, cross-reference table, trailer)."""

    PAGES, CATALOG, INFO, OUTLINES = 1, 2, 3, 4

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.offsets = array("q", [0] * 5)  # by object number; 0 is the free list head
        self.pos = 0
        self._emit(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _emit(self, data: bytes) -> None:
        self.fh.write(data)
        self.pos += len(data)

    def new_id(self) -> int:
        self.offsets.append(0)
        return len(self.offsets) - 1

    def put(self, obj_id: int, obj: PdfObject) -> None:
        buf = io.BytesIO()
        obj.write_to_stream(buf)
        self.offsets[obj_id] = self.pos
        self._emit(b"%d 0 obj\n" % obj_id + buf.getvalue() + b"\nendobj\n")

    def append(self, pdf: bytes, links: Links | None = None) -> tuple[int, list[int]]:
        """Copy `pdf`'s pages and all they use under a new page tree node; return the
        node's and the pages' object numbers.

        `links` maps a page index of `pdf` to (rectangle, target page object) links.
        """
        reader = PdfReader(io.BytesIO(pdf))
        node = self.new_id()
        mapping: dict[int, int] = {}
        pending: list[IndirectObject] = []

        def remap(value: Any) -> Any:
            """`value` with every reference renumbered (in place); new objects queued."""
            if isinstance(value, IndirectObject):
                new = mapping.get(value.idnum)
                if new is None:
                    new = mapping[value.idnum] = self.new_id()
                    pending.append(value)
                return _ref(new)
            if isinstance(value, DictionaryObject):  # streams too: their data is kept as read
                for key in list(value.keys()):
                    if key != "/Parent":  # a page's parent is set below; nothing else has one
                        value[key] = remap(value.raw_get(key))
            elif isinstance(value, ArrayObject):
                for i, item in enumerate(value):
                    value[i] = remap(item)
            return value

        pages = list(reader.pages)  # flattened: inherited attributes are on each page
        page_ids = []
        for page in pages:
            ref = page.indirect_reference
            assert ref is not None
            mapping[ref.idnum] = self.new_id()
            page_ids.append(mapping[ref.idnum])
        for index, (page, page_id) in enumerate(zip(pages, page_ids, strict=True)):
            remap(page)
            page[NameObject("/Parent")] = _ref(node)
            annots = []
            for rect, target in (links or {}).get(index, []):
                annot = self.new_id()
                self.put(annot, _names(
                    Type=NameObject("/Annot"), Subtype=NameObject("/Link"),
                    Border=ArrayObject([NumberObject(0)] * 3),
                    Rect=ArrayObject([FloatObject(round(v, 1)) for v in rect]),
                    Dest=_dest(target)))
                annots.append(_ref(annot))
            if annots:
                page[NameObject("/Annots")] = ArrayObject(annots)
            self.put(page_id, page)
        while pending:
            ref = pending.pop()
            self.put(mapping[ref.idnum], remap(reader.get_object(ref)))
        self.put(node, _names(Type=NameObject("/Pages"), Parent=_ref(self.PAGES),
                              Kids=ArrayObject(_ref(p) for p in page_ids),
                              Count=NumberObject(len(page_ids))))
        return node, page_ids

    def finish(self, nodes: list[int], n_pages: int, info: DictionaryObject,
               outline: Iterator[tuple[str, int]], n_outline: int, doc_id: bytes) -> None:
        """Root page tree (its kids are the parts' nodes, in page order), outline (one
        bookmark per (title, page object)), catalog, info, xref, trailer."""
        self.put(self.PAGES, _names(Type=NameObject("/Pages"), Count=NumberObject(n_pages),
                                    Kids=ArrayObject(_ref(n) for n in nodes)))
        first = len(self.offsets)
        self.offsets.extend([0] * n_outline)
        last = first + n_outline - 1
        for obj_id, (title, page_obj) in zip(range(first, last + 1), outline, strict=True):
            item = _names(Title=TextStringObject(title), Parent=_ref(self.OUTLINES),
                          Dest=_dest(page_obj))
            if obj_id > first:
                item[NameObject("/Prev")] = _ref(obj_id - 1)
            if obj_id < last:
                item[NameObject("/Next")] = _ref(obj_id + 1)
            self.put(obj_id, item)
        outlines = _names(Type=NameObject("/Outlines"), Count=NumberObject(n_outline))
        if n_outline:
            outlines.update({NameObject("/First"): _ref(first), NameObject("/Last"): _ref(last)})
        self.put(self.OUTLINES, outlines)
        self.put(self.CATALOG, _names(Type=NameObject("/Catalog"), Pages=_ref(self.PAGES),
                                      Outlines=_ref(self.OUTLINES),
                                      PageMode=NameObject("/UseOutlines")))
        self.put(self.INFO, info)
        xref_at = self.pos
        out = bytearray(b"xref\n0 %d\n0000000000 65535 f \n" % len(self.offsets))
        for off in self.offsets[1:]:
            out += b"%010d 00000 n \n" % off
        trailer = io.BytesIO()
        _names(Size=NumberObject(len(self.offsets)), Root=_ref(self.CATALOG),
               Info=_ref(self.INFO),
               ID=ArrayObject([ByteStringObject(doc_id)] * 2)).write_to_stream(trailer)
        out += b"trailer\n" + trailer.getvalue() + b"\nstartxref\n%d\n%%%%EOF\n" % xref_at
        self._emit(bytes(out))


# ---------------------------------------------------------------- the writer

def _weight(conv: Mapping[str, Any]) -> int:
    """About how many characters of text `conv` puts on its pages."""
    total = 600
    for msg in conv.get("messages") or []:
        total += 150 + len(msg.get("content") or "")
        if msg.get("tool_input") is not None:
            total += len(str(msg["tool_input"]))
    return total


class PdfWriter:
    """Writes the PDF export; holds one part's records and pages at a time."""

    def __init__(self, path: Path, meta: dict[str, Any],
                 on_section: Callable[[int, str | None], None] | None = None) -> None:
        self.path = Path(path)
        self.meta = meta
        self.on_section = on_section  # (number, title) as each conversation is laid out
        self._reached = 0
        self.title = export_title(meta)
        export_date = meta.get("export_date")
        self.export_date = export_date if isinstance(export_date, datetime) else datetime.now(UTC)
        self.right_note = f"{self.export_date:%Y-%m-%d} · claudelens_nb"
        expected = int(meta.get("total_conversations") or 0)
        self.toc_pages = max(1, math.ceil(expected / TOC_ROWS))
        self.front_pages = 1 + self.toc_pages
        self.count = 0
        self._fh: BinaryIO | None = self.path.open("wb")
        self._file = _PdfFile(self._fh)
        self._body_nodes: list[int] = []   # one page tree node per part
        self._body_ids = array("q")       # page object numbers, 8 bytes a page
        self._starts = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed in _cleanup
            max_size=1 << 20, mode="w+", encoding="utf-8")
        self._pending: list[tuple[int, dict[str, Any]]] = []
        self._pending_weight = 0

    # -- streaming the body

    def write(self, conversations: list[dict[str, Any]]) -> None:
        if self._fh is None:
            raise RuntimeError("PdfWriter is closed")
        for conv in conversations:
            self.count += 1
            self._pending.append((self.count, conv))
            self._pending_weight += _weight(conv)
            if self._pending_weight >= PART_CHARS:
                self._flush_part()

    def _flush_part(self) -> None:
        pending, self._pending, self._pending_weight = self._pending, [], 0
        if not pending:
            return
        part = _BodyPart(self.front_pages + len(self._body_ids) + 1, self.title,
                         self.right_note)
        story: list[Flowable] = []
        for number, conv in pending:
            if story:
                story.append(PageBreak())
            story.append(_Section(number, conv, self._section_reached))
        del pending
        pdf = part.render(story)
        for number, title, page in part.starts:
            self._starts.write(json.dumps([number, title, page], ensure_ascii=False) + "\n")
        del part, story
        gc.collect()  # a built document is a web of cycles (doc, canvas, templates)
        node, ids = self._file.append(pdf)
        self._body_nodes.append(node)
        self._body_ids.extend(ids)

    def _section_reached(self, number: int, conv: Mapping[str, Any]) -> None:
        if self.on_section is not None and number > self._reached:
            self._reached = number
            title = conv.get("title")
            self.on_section(number, title if isinstance(title, str) else None)

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
        body_ids = self._body_ids
        front_nodes, front_pages = [], 0
        for pdf, links in self._front_parts():
            node, ids = self._file.append(pdf, self._link_targets(links))
            front_nodes.append(node)
            front_pages += len(ids)
        outline = ((f"{n}. {t}", body_ids[p - self.front_pages - 1])
                   for n, t, p in self._starts_iter())
        doc_id = hashlib.md5(f"{self.title}{iso(self.export_date)}{self.count}".encode()).digest()
        self._file.finish(front_nodes + self._body_nodes, front_pages + len(body_ids),
                          self._info(), outline, self.count, doc_id)
        self._fh.close()
        self._fh = None
        self._cleanup()

    def abort(self) -> None:
        self._pending = []
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self._cleanup()

    def _cleanup(self) -> None:
        self._starts.close()

    def _info(self) -> DictionaryObject:
        m = self.meta
        subject = (f"ClaudeLens conversations export: {self.count} conversations, "
                   f"{m.get('total_messages', 0)} messages, total cost "
                   f"{money(m.get('total_cost_usd') or 0)}")
        return _names(Title=TextStringObject(self.title), Author=TextStringObject("claudelens_nb"),
                      Subject=TextStringObject(subject),
                      Creator=TextStringObject(str(m.get("generator") or "claudelens_nb")),
                      Producer=TextStringObject("ReportLab and pypdf via claudelens_nb"),
                      Keywords=TextStringObject("ClaudeLens, conversations, export"),
                      CreationDate=_pdf_date(self.export_date),
                      ModDate=_pdf_date(self.export_date))

    def _link_targets(self, links: Links) -> Links:
        """Contents-row links by page, their target page numbers made page objects."""
        out: Links = {}
        for page, items in links.items():
            out[page] = [(rect, self._body_ids[target - self.front_pages - 1])
                         for rect, target in items
                         if 0 <= target - self.front_pages - 1 < len(self._body_ids)]
        return out

    def _front_parts(self) -> Iterator[tuple[bytes, Links]]:
        """Title page and contents as PDFs of at most PART_PAGES pages, with the link
        rectangles of their contents rows (by page index within each PDF)."""
        entries = self._starts_iter()
        per_page = max(TOC_ROWS, math.ceil(self.count / self.toc_pages))
        page = 0
        while page < self.toc_pages:
            buf = io.BytesIO()
            canv = rl_canvas.Canvas(buf, pagesize=A4, invariant=1, pageCompression=1)
            links: Links = {}
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
        links: list[tuple[tuple[float, ...], int]] = []
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
