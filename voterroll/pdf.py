"""One station's voter list as a PDF, drawn on a bare reportlab canvas (fast: no layout engine).

Latin, Greek and Cyrillic names print; right-to-left scripts such as Arabic do not print
legibly (see FONT_CANDIDATES).
"""
import functools
import logging
import math
import os
import tempfile
from pathlib import Path

import reportlab
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFError
from reportlab.pdfgen import canvas

logger = logging.getLogger(__name__)

# Page streams stay zlib-compressed but are not also ASCII85-encoded: that text armour makes
# them 25 % larger and, without reportlab's optional C accelerator, is a third of the
# writing time.
rl_config.useA85 = 0

ROWS_PER_PAGE = 40

# Names may be in any script, and reportlab's standard fonts are Latin-1 only. The first
# TrueType font found is embedded; DejaVu Sans (Debian's fonts-dejavu-core) draws Latin,
# Greek and Cyrillic, Vera (bundled with reportlab) Latin only. Arabic (and Hebrew) names
# come out wrong: reportlab's canvas neither shapes letters (each is drawn in its isolated
# form) nor lays text right to left, so a name reads as separate letters in reverse order.
# Printing such rolls properly needs a shaping step (e.g. HarfBuzz) this writer does not have.
FONT_CANDIDATES = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path(reportlab.__file__).parent / "fonts" / "Vera.ttf",
]

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 15 * mm
ROW_HEIGHT = 6 * mm
COLUMNS = {"number": MARGIN, "voter_id": MARGIN + 14 * mm, "name": MARGIN + 44 * mm,
           "signature": MARGIN + 120 * mm}  # fmt: skip


@functools.cache
def font():
    """(font name, the code points it can draw): an embedded TTF, else Helvetica's Latin-1."""
    for path in FONT_CANDIDATES:
        try:
            ttf = TTFont("VoterRoll", str(path))
        except (OSError, TTFError):
            continue
        pdfmetrics.registerFont(ttf)
        return "VoterRoll", frozenset(ttf.face.charToGlyph)
    logger.warning("No TrueType font found; names outside Latin-1 print with '?'")
    return "Helvetica", frozenset(range(256))


def drawable(text, code_points):
    """``text`` with each character the font cannot draw replaced by '?'."""
    return "".join(char if ord(char) in code_points else "?" for char in text)


def page_count(voters):
    return max(1, math.ceil(voters / ROWS_PER_PAGE))


def write_station_pdf(path, center_id, center_name, station, voters):
    """Write ``voters`` ((voter id, name) pairs, in order) to ``path``; return the page count.

    Written to a temporary file beside ``path`` and renamed over it, so a reader never sees
    half a PDF and a crash leaves the previous one in place.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    font_name, code_points = font()
    pages = page_count(len(voters))
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    os.close(descriptor)
    try:
        pdf = canvas.Canvas(temporary, pagesize=A4)
        pdf.setTitle(f"Center {center_id}, station {station}")
        title = drawable(f"{center_name} — center {center_id}, station {station}", code_points)
        for page in range(pages):
            rows = voters[page * ROWS_PER_PAGE : (page + 1) * ROWS_PER_PAGE]
            draw_page(pdf, font_name, title, rows, first_number=page * ROWS_PER_PAGE + 1,
                      page=page + 1, pages=pages, code_points=code_points)  # fmt: skip
            pdf.showPage()
        pdf.save()
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return pages


def draw_page(pdf, font_name, title, rows, first_number, page, pages, code_points):
    """One page: title, column heads, a numbered row per voter, the footer.

    Each column is one text object of many lines: far fewer PDF operators (and far less
    pure-Python number formatting in reportlab) than a drawString per cell.
    """
    top = PAGE_HEIGHT - MARGIN
    pdf.setFont(font_name, 13)
    pdf.drawString(MARGIN, top, title)
    head = top - 10 * mm
    columns = {
        "number": ["No."] + [str(number) for number in range(first_number, first_number + len(rows))],
        "voter_id": ["Voter ID"] + [str(voter_id) for voter_id, _ in rows],
        "name": ["Name"] + [drawable(name, code_points) for _, name in rows],
        "signature": ["Signature"],
    }
    for column, lines in columns.items():
        text = pdf.beginText(COLUMNS[column], head)
        text.setFont(font_name, 9, leading=ROW_HEIGHT)
        text.textLines(lines, trim=0)
        pdf.drawText(text)
    # The signature column stays empty: a line to sign on per row.
    pdf.line(MARGIN, head - 2 * mm, PAGE_WIDTH - MARGIN, head - 2 * mm)
    pdf.lines(
        [
            (COLUMNS["signature"], head - row * ROW_HEIGHT - 1 * mm,
             PAGE_WIDTH - MARGIN, head - row * ROW_HEIGHT - 1 * mm)
            for row in range(1, len(rows) + 1)
        ]
    )  # fmt: skip
    pdf.setFont(font_name, 9)
    pdf.drawCentredString(PAGE_WIDTH / 2, MARGIN / 2, f"Page {page} of {pages}")
