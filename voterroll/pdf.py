"""A station's roll (a cover page, then its voter list) and its sign, as PDFs drawn on a bare
reportlab canvas (fast: no layout engine).

A center named in a right-to-left script (Arabic) gets an RTL roll: Arabic labels, columns
from the right, every line right-aligned. Names in any script print, each shaped and ordered
by voterroll.shaping: an Arabic name on a Latin roll, or a Latin one on an Arabic roll, too.
"""

import codecs
import functools
import io
import itertools
import logging
import math
from pathlib import Path

import reportlab
from reportlab import rl_config
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen import canvas

from .shaping import ARABIC_FORMS, needs_rtl, visual

logger = logging.getLogger(__name__)

# Page streams stay zlib-compressed but are not also ASCII85-encoded: that text armour makes
# them 25 % larger and, without reportlab's optional C accelerator, is a third of the
# writing time.
rl_config.useA85 = 0

ROWS_PER_PAGE = 40

# reportlab's standard fonts are Latin-1 only: the first TrueType font found is embedded.
# DejaVu Sans (Debian's fonts-dejavu-core) draws Latin, Greek, Cyrillic and Arabic; Vera,
# bundled with reportlab, Latin only.
FONT_CANDIDATES = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path(reportlab.__file__).parent / "fonts" / "Vera.ttf",
]
NO_ARABIC_FONT = (
    "The voter-roll font ({font}) has no Arabic letters: Arabic names print as '?'. "
    "Install DejaVu Sans (Debian: apt-get install fonts-dejavu-core)."
)

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 15 * mm
ROW_HEIGHT = 6 * mm
# Left edges of the columns of a left-to-right roll; an RTL roll mirrors them as right edges.
COLUMNS = {
    "number": MARGIN,
    "voter_number": MARGIN + 14 * mm,
    "name": MARGIN + 44 * mm,
    "signature": MARGIN + 120 * mm,
}

LABELS = {
    False: {
        "center": "Center",
        "station": "Station",
        "voters": "Voters",
        "first": "First voter",
        "last": "Last voter",
        # The list's pages, which "page N of M" counts, and the file's: a reader checking the
        # roll against its PDF viewer sees which is which.
        "pages": "List pages",
        "pages_value": "{list} ({file} with this cover)",
        "generated": "Generated",
        "number": "No.",
        "voter_number": "Voter No.",
        "name": "Name",
        "signature": "Signature",
        "title": "{name} — center {center}, station {station} ({gender})",
        "page": "Page {page} of {pages}",
        "from": "From",
        "to": "To",
        "F": "Women",
        "M": "Men",
        "mixed": "Men and women",
    },
    True: {
        "center": "مركز",
        "station": "محطة",
        "voters": "عدد الناخبين",
        "first": "أول ناخب",
        "last": "آخر ناخب",
        "pages": "صفحات القائمة",
        "pages_value": "{list} ({file} مع صفحة الغلاف)",
        "generated": "تاريخ الإنشاء",
        "number": "رقم",
        "voter_number": "رقم الناخب",
        "name": "الاسم",
        "signature": "التوقيع",
        "title": "{name} — مركز {center}، محطة {station} ({gender})",
        "page": "صفحة {page} من {pages}",
        "from": "من",
        "to": "إلى",
        "F": "نساء",
        "M": "رجال",
        "mixed": "رجال ونساء",
    },
}


class FlateOnce(pdfdoc.PDFStreamFilterZCompress):
    """reportlab's zlib filter, for a font subset's file: the same file compressed once."""

    @functools.lru_cache(maxsize=64)  # noqa: B019 (one instance, for the process's life)
    def encode(self, text):
        return super().encode(text)


FLATE_ONCE = FlateOnce()


class Widths(pdfdoc.PDFArray):
    """A font subset's glyph widths, as reportlab formats them (a number at a time, a few
    hundred a file), formatted once for each set."""

    def format(self, document, IND=b"\n "):
        return formatted_widths(tuple(self.sequence))


@functools.lru_cache(maxsize=64)
def formatted_widths(widths):
    return pdfdoc.PDFArray(widths).format(None)


class RollFont(TTFont):
    """A TrueType font whose strings are encoded for the page at C speed.

    reportlab gives each character its one-byte code in the document's font subset in a Python
    loop, character by character: a third of a roll's writing time. Once a character has a code
    in the first subset (ASCII has one from the start, and an Arabic file its letters, from
    Writer.start), a string of such characters is encoded by a codec, in C, to the same bytes.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A font file cut to a subset's glyphs is the same for the same subset: most Latin
        # files share one, Arabic ones another (Writer.start).
        cut = functools.lru_cache(maxsize=64)(self.face.makeSubset)
        self.face.makeSubset = lambda subset: cut(tuple(subset))

    def addObjects(self, doc):
        """reportlab's font objects for the file, with what most files share made once per
        process: each subset's font file compressed, and its widths formatted."""
        subsets = range(len(self._assignState(doc).subsets))
        names = [self.getSubsetInternalName(subset, doc)[1:] for subset in subsets]
        super().addObjects(doc)
        fonts = doc.idToObject["BasicFonts"].dict
        for name in names:
            fonts[name].Widths = Widths(fonts[name].Widths.sequence)
        if doc.compression:
            files = f"fontFile:{self.face.filename}("
            for name, stream in doc.idToObject.items():
                if name.startswith(files):
                    stream.filters = [FLATE_ONCE]

    def encoded(self, lines, doc):
        """Each of ``lines`` as the bytes that draw it with the document's first subset; None
        if a character has no code there (a later subset's, or none: the font lacks it)."""
        state = self._assignState(doc)
        if not hasattr(state, "table"):
            self.learn(state)  # ASCII, from the start
        try:
            return [codecs.charmap_encode(line, "strict", state.table)[0] for line in lines]
        except UnicodeEncodeError:
            # Characters new to the document get their codes from reportlab, in the order they
            # come, as line by line; distinct characters only, so a column costs no more.
            super().splitString("".join(dict.fromkeys("".join(lines))), doc)
            self.learn(state)
        try:
            return [codecs.charmap_encode(line, "strict", state.table)[0] for line in lines]
        except UnicodeEncodeError:
            return None

    def splitString(self, text, doc, encoding="utf-8"):
        encoded = self.encoded([text], doc)
        if encoded is None:
            return super().splitString(text, doc, encoding)
        return [(0, encoded[0])] if text else []

    @staticmethod
    def learn(state):
        """The codes reportlab has given characters in the first subset, as a codec's table
        (what the font lacks has none: reportlab draws it as code 0, unassigned)."""
        characters = ["\ufffe"] * 256  # the codec's "no character"
        for code_point, code in state.assignments.items():
            if code < 256:
                characters[code] = chr(code_point)
        state.table = codecs.charmap_build("".join(characters))


# What an Arabic file's font subset starts with: the joined forms; the vowel marks, tatweel
# and superscript alef that names are spelt with; the Arabic comma, dash and dot of its labels.
ARABIC_FIRST = ARABIC_FORMS | frozenset(
    "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670\u0640\u060c—·"
)


@functools.cache
def arabic_first(characters):
    """ARABIC_FIRST as one string, in code point order: those of it the font draws."""
    return "".join(sorted(ARABIC_FIRST & characters))


@functools.cache
def font():
    """(font name, the characters it can draw): an embedded TTF, else Helvetica's Latin-1."""
    for path in FONT_CANDIDATES:
        try:
            ttf = RollFont("VoterRoll", str(path))
        except (OSError, TTFError):
            continue
        pdfmetrics.registerFont(ttf)
        return "VoterRoll", frozenset(map(chr, ttf.face.charToGlyph))
    logger.warning("No TrueType font found; names outside Latin-1 print with '?'")
    return "Helvetica", frozenset(map(chr, range(256)))


def arabic_font_problem():
    """Why Arabic names would not print, or None: for a start-up check and for rolls."""
    _font_name, characters = font()
    if characters >= ARABIC_FORMS:
        return None
    path = next((path for path in FONT_CANDIDATES if path.exists()), "Helvetica")
    return NO_ARABIC_FONT.format(font=path)


def drawable(text, characters):
    """``text`` with each character the font cannot draw replaced by '?'."""
    if characters.issuperset(text):
        return text
    return "".join(char if char in characters else "?" for char in text)


def list_pages(voters):
    """Pages of a station's voter list (its cover aside)."""
    return max(1, math.ceil(voters / ROWS_PER_PAGE))


def roll_pages(voters):
    """Pages of a station's roll: its cover and its list."""
    return 1 + list_pages(voters)


class Writer:
    """Strings as this roll draws them: shaped, in the roll's direction, drawable by its font."""

    def __init__(self, rtl):
        self.rtl = rtl
        self.font_name, self.characters = font()
        self.labels = LABELS[rtl]

    def start(self, pdf):
        """A right-to-left file's font subset starts with every Arabic form and mark, in one
        order, as if drawn first: one subset for nearly every Arabic file (a Latin one has
        one already, ASCII), so that its font file is cut, compressed and measured once."""
        font = pdfmetrics.getFont(self.font_name)
        if self.rtl and isinstance(font, RollFont):
            font.encoded([arabic_first(self.characters)], pdf._doc)

    def line(self, text):
        """A line of the roll's own text (labels, titles): laid out in the roll's direction."""
        return drawable(visual(text, "R" if self.rtl else None), self.characters)

    def names(self, names):
        visuals = [visual(name) for name in names]
        if not self.characters.issuperset("".join(visuals)):
            if any(map(needs_rtl, names)) and arabic_font_problem():
                logger.error(arabic_font_problem())
            visuals = [drawable(name, self.characters) for name in visuals]
        return visuals

    def label(self, key, **values):
        return self.labels[key].format(**values)

    def widths(self, lines):
        """Each line's width at 9 pt; a column of numbers' from their lengths, where the font's
        digits are all one width (DejaVu's and Vera's are): the same sums, without measuring."""
        font = pdfmetrics.getFont(self.font_name)
        if tabular_digits(font) and all(line.isascii() and line.isdigit() for line in lines):
            return [number_width(font, len(line)) for line in lines]
        return list(map(font.stringWidth, lines, itertools.repeat(9)))

    def draw(self, pdf, x, y, text):
        """``text`` starting at ``x`` (LTR), or ending at ``PAGE_WIDTH - x`` (RTL)."""
        if self.rtl:
            pdf.drawRightString(PAGE_WIDTH - x, y, text)
        else:
            pdf.drawString(x, y, text)

    def column(self, pdf, x, top, lines):
        """``lines`` in one text object (far fewer operators than a string per cell), left-
        aligned at ``x``, or right-aligned at its mirror in an RTL roll: there each line starts
        where its width says, a short relative move from the line before (none between numbers
        of one length: digits are all one width). An empty line is a line left blank.

        The operators are those reportlab's text object writes, to the byte; written here at
        once for a column whose characters all have their code in the document already (its
        text object costs as much again per line as the rest of the page).
        """
        font = pdfmetrics.getFont(self.font_name)
        # pdf._doc: the file, which reportlab keys a font's codes by (its text object does so too)
        encoded = font.encoded(lines, pdf._doc) if isinstance(font, RollFont) else None
        if self.rtl:
            starts = [PAGE_WIDTH - x - width for width in self.widths(lines)]
            shifts = [start - previous for previous, start in itertools.pairwise([starts[0], *starts])]
        else:
            starts, shifts = [x], itertools.repeat(0)
        if encoded is None:
            text = pdf.beginText(x, top)
            text.setFont(self.font_name, 9, leading=ROW_HEIGHT)
            text.setLeading(ROW_HEIGHT)  # for a blank first line, before the font is selected
            if self.rtl:
                text.setTextOrigin(starts[0], top)
            for line, shift in zip(lines, shifts, strict=False):
                if shift:
                    text.moveCursor(shift, 0)
                text.textLine(line)
            pdf.drawText(text)
            return
        code = [f"BT 1 0 0 1 {fp_str(x, top)} Tm"]
        if self.rtl:
            code.append(f"1 0 0 1 {fp_str(starts[0], top)} Tm")
        code.append(f"{font.getSubsetInternalName(0, pdf._doc)} 9 Tf {fp_str(ROW_HEIGHT)} TL")
        code += [
            f"{fp_str(shift, 0)} Td ({escapePDF(line)}) Tj T*" if shift else f"({escapePDF(line)}) Tj T*"
            for line, shift in zip(encoded, shifts, strict=False)
        ]
        code.append("ET")
        pdf.addLiteral(" ".join(code))


@functools.cache
def tabular_digits(font):
    """Whether the font's ten digits are all one width."""
    return len({font.stringWidth(digit, 9) for digit in "0123456789"}) == 1


@functools.cache
def number_width(font, length):
    return font.stringWidth("0" * length, 9)


def station_gender(genders):
    """ "F", "M" or "mixed", for the genders of a station's voters."""
    distinct = set(genders)
    return distinct.pop() if len(distinct) == 1 else "mixed"


def roll_pdf(center_number, center_name, station, voters, generated):
    """One station's roll as PDF bytes, and its pages: a cover, then ``voters`` ((number, name,
    gender), in order), 40 to a page, numbered "page N of M" without the cover.

    Drawn in memory: the caller stores the bytes (voterroll.files), so no half-written file is
    ever seen, and no file handle is left open when writing fails.
    """
    writer = Writer(rtl=needs_rtl(center_name))
    pages = list_pages(len(voters))
    names = writer.names([name for _, name, _ in voters])
    gender = writer.label(station_gender(gender for _, _, gender in voters))
    output = io.BytesIO()
    pdf = canvas.Canvas(output, pagesize=A4)
    writer.start(pdf)
    pdf.setTitle(f"Center {center_number}, station {station}")
    draw_cover(pdf, writer, center_number, center_name, station, gender, voters, pages, generated)
    pdf.showPage()
    title = writer.line(
        writer.label("title", name=center_name, center=center_number, station=station, gender=gender.lower())
    )
    draw_page_forms(pdf, writer, title)
    for page in range(pages):
        first = page * ROWS_PER_PAGE
        rows = voters[first : first + ROWS_PER_PAGE]
        footer = writer.line(writer.label("page", page=page + 1, pages=pages))
        draw_list_page(pdf, writer, rows, names[first : first + len(rows)], first + 1, footer)
        pdf.showPage()
    pdf.save()
    return output.getvalue(), 1 + pages


def draw_cover(pdf, writer, center_number, center_name, station, gender, voters, pages, generated):
    """What the station is, and what its roll holds: to check a roll without reading it."""
    (first_number, first_name, _), (last_number, last_name, _) = voters[0], voters[-1]
    top = PAGE_HEIGHT - 40 * mm
    pdf.setFont(writer.font_name, 22)
    writer.draw(pdf, MARGIN, top, writer.line(center_name))
    pdf.setFont(writer.font_name, 16)
    writer.draw(pdf, MARGIN, top - 14 * mm, writer.line(f"{writer.label('station')} {station} · {gender}"))
    label = writer.label
    facts = [
        (label("center"), str(center_number)),
        (label("voters"), str(len(voters))),
        (label("first"), f"{first_name} ({first_number})"),
        (label("last"), f"{last_name} ({last_number})"),
        (label("pages"), label("pages_value", list=pages, file=pages + 1)),
        (label("generated"), f"{generated:%Y-%m-%d %H:%M} UTC"),
    ]
    pdf.setFont(writer.font_name, 12)
    for row, (key, value) in enumerate(facts):
        y = top - (34 + 10 * row) * mm
        writer.draw(pdf, MARGIN, y, writer.line(key))
        value_x = MARGIN + 45 * mm
        writer.draw(pdf, value_x, y, drawable(visual(value), writer.characters))


def draw_page_forms(pdf, writer, title):
    """What every list page of this roll shows, drawn once as forms (PDF XObjects) that each
    page places: the title, column heads and rule ("head"), and a full page's 40 lines to sign
    on ("rules"). A page of the list then draws only its rows and its footer."""
    top = PAGE_HEIGHT - MARGIN
    head = top - 10 * mm
    pdf.beginForm("head")
    pdf.setFont(writer.font_name, 13)
    writer.draw(pdf, MARGIN, top, title)
    for column in COLUMNS:
        writer.column(pdf, COLUMNS[column], head, [writer.line(writer.label(column))])
    pdf.line(MARGIN, head - 2 * mm, PAGE_WIDTH - MARGIN, head - 2 * mm)
    pdf.endForm()
    pdf.beginForm("rules")
    draw_signature_lines(pdf, writer, ROWS_PER_PAGE)
    pdf.endForm()


def draw_signature_lines(pdf, writer, rows):
    """The signature column stays empty: a line to sign on per row."""
    head = PAGE_HEIGHT - MARGIN - 10 * mm
    start, end = (
        (MARGIN, PAGE_WIDTH - COLUMNS["signature"])
        if writer.rtl
        else (COLUMNS["signature"], PAGE_WIDTH - MARGIN)
    )
    pdf.lines(
        [
            (start, head - row * ROW_HEIGHT - 1 * mm, end, head - row * ROW_HEIGHT - 1 * mm)
            for row in range(1, rows + 1)
        ]
    )


def draw_list_page(pdf, writer, rows, names, first_number, footer):
    """One page of the list: the forms (title, column heads, lines to sign on), a numbered row
    per voter, the footer."""
    pdf.doForm("head")
    if len(rows) == ROWS_PER_PAGE:
        pdf.doForm("rules")
    else:
        draw_signature_lines(pdf, writer, len(rows))
    below = PAGE_HEIGHT - MARGIN - 10 * mm - ROW_HEIGHT
    numbers = [str(number) for number in range(first_number, first_number + len(rows))]
    writer.column(pdf, COLUMNS["number"], below, numbers)
    writer.column(pdf, COLUMNS["voter_number"], below, [str(number) for number, _, _ in rows])
    # From the column head's baseline, a line down, as the numbers' rows are placed: the same
    # positions to the last digit that a viewer rounds.
    writer.column(pdf, COLUMNS["name"], below + ROW_HEIGHT, ["", *names])
    pdf.setFont(writer.font_name, 9)
    pdf.drawCentredString(PAGE_WIDTH / 2, MARGIN / 2, footer)


def sign_pdf(center_number, center_name, station, gender, first_name, last_name):
    """The sign at a station's door, one landscape page: which center, station and voters."""
    writer = Writer(rtl=needs_rtl(center_name))
    width, height = landscape(A4)
    output = io.BytesIO()
    pdf = canvas.Canvas(output, pagesize=(width, height))
    writer.start(pdf)
    pdf.setTitle(f"Center {center_number}, station {station}: sign")
    label = writer.label
    lines = [
        (24, writer.line(f"{center_name} · {label('center')} {center_number}")),
        (110, writer.line(f"{label('station')} {station}")),
        (48, writer.line(label(gender))),
        (28, writer.line(f"{label('from')}: {first_name}")),
        (28, writer.line(f"{label('to')}: {last_name}")),
    ]
    y = height - 20 * mm
    for size, text in lines:
        y -= size * 1.2 + 8 * mm  # the line's height above its baseline, and a gap
        pdf.setFont(writer.font_name, size)
        pdf.drawCentredString(width / 2, y, text)
    pdf.showPage()
    pdf.save()
    return output.getvalue()
