"""The station roll: a cover, then pages of 40 rows, every voter once and in order, any script;
Arabic shaped and right to left; the station's sign."""

import io
import re
import unicodedata
from datetime import UTC, datetime

import pypdf
import pytest

from voterroll import pdf
from voterroll.pdf import ROWS_PER_PAGE, roll_pdf, sign_pdf
from voterroll.shaping import visual

GENERATED = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
# Arabic letters that have joined forms: drawn shaped, none of them is left as it is stored
# (tatweel, U+0640, and the vowel marks are left as they are, rightly).
UNSHAPED = re.compile("[\u0621-\u063a\u0641-\u064a]")
ARABIC_NAMES = [
    "سلامة الأحمر",  # lam + alef with hamza: one ligature
    "عبدالله جار الله",  # "Allah" in plain letters: DejaVu Sans has no U+FDF2
    "تقيّ الدّين",  # vowel marks kept
    "عجرمة (العجارمة)",  # brackets mirrored
    "نجلاء الحلبي 2",  # digits
    "محمد Smith",  # a Latin word in an Arabic name
]


def voters(count, gender="F"):
    return [(10**11 + n, f"Voter {n:05d}", gender) for n in range(count)]


def pages_of(data):
    return pypdf.PdfReader(io.BytesIO(data)).pages


def text_of(data):
    return [page.extract_text() for page in pages_of(data)]


def nfkc(text):
    return unicodedata.normalize("NFKC", text)


def words(text):
    """The words of a line, in any order, brackets aside: pypdf guesses the order of a line
    that mixes directions (digits, Latin), so such lines are compared word by word."""
    return sorted(re.sub("[()]", " ", nfkc(text)).split())


def test_a_roll_is_a_cover_then_a_page_per_40_voters_numbered_without_the_cover():
    data, pages = roll_pdf(7, "Al-Nour Primary School", 2, voters(81), GENERATED)

    assert ROWS_PER_PAGE == 40
    assert pages == 4
    cover, *lists = text_of(data)
    assert len(lists) == 3
    assert cover.splitlines() == [
        *("Al-Nour Primary School", "Station 2 · Women", "Center", "7", "Voters", "81"),
        *("First voter", "Voter 00000 (100000000000)", "Last voter", "Voter 00080 (100000000080)"),
        *("List pages", "3 (4 with this cover)", "Generated", "2026-11-23 09:30 UTC"),
    ]
    for number, text in enumerate(lists, start=1):
        assert "Al-Nour Primary School — center 7, station 2 (women)" in text
        assert f"Page {number} of 3" in text
        assert "Signature" in text


@pytest.mark.parametrize(("center_name", "voter"), [("School", "Voter"), ("مدرسة الفاتح", "سلامة الأحمر")])
def test_the_cover_counts_the_list_pages_and_the_files_and_they_match_the_pdf(center_name, voter):
    """A 12-page file's cover said "Pages 11": the list's, which a reader took for the file's."""
    data, pages = roll_pdf(7, center_name, 1, [(10**11 + n, voter, "F") for n in range(401)], GENERATED)

    cover, *lists = text_of(data)
    numbers = [int(n) for n in re.findall(r"\b\d+\b", nfkc(cover).split("2026")[0])]
    assert pages == len(pages_of(data)) == 12 and len(lists) == 11
    assert numbers[-2:] in ([11, 12], [12, 11])  # the list's pages, then the file's (any direction)
    if voter == "Voter":
        assert "List pages\n11 (12 with this cover)" in cover
    else:
        assert words("صفحات القائمة") in [words(line) for line in cover.splitlines()]


def test_a_roll_lists_every_voter_once_in_order_with_row_numbers():
    station = voters(95)

    data, _ = roll_pdf(7, "School", 1, station, GENERATED)

    text = "\n".join(text_of(data)[1:])
    lines = text.splitlines()
    positions = [lines.index(f"Voter {n:05d}") for n in range(95)]
    assert positions == sorted(positions)
    assert all(text.count(str(number)) == 1 for number, _, _ in station)
    row_numbers = [line for line in lines if line.isdigit() and len(line) <= 2]
    assert row_numbers == [str(n) for n in range(1, 96)]


def test_a_mixed_station_says_so_on_its_cover_and_pages():
    data, _ = roll_pdf(7, "School", 3, voters(3, "M") + voters(2, "F"), GENERATED)

    cover, first = text_of(data)
    assert "Station 3 · Men and women" in cover
    assert "station 3 (men and women)" in first


def test_names_in_other_scripts_print():
    names = [(1, "Ḥasan Ṭāhā", "M"), (2, "Дмитрий Иванов", "M"), (3, "Ελένη Παππά", "F")]

    data, pages = roll_pdf(1, "Madrasat Al-Fajr", 1, names, GENERATED)

    text = text_of(data)[1]
    assert pages == 2
    for _, name, _ in names:
        assert name in text


def test_arabic_names_are_drawn_shaped_and_read_back_as_stored():
    """Today's writer drew each letter as stored, in its isolated form, left to right: an
    extractor read them back reversed, and the page showed separate letters."""
    station = [(10**11 + n, name, "M") for n, name in enumerate(ARABIC_NAMES)]

    data, _ = roll_pdf(12345, "مدرسة الفاتح", 3, station, GENERATED)

    cover, page = text_of(data)
    assert not UNSHAPED.findall(cover + page)
    lines = [nfkc(line).strip() for line in page.splitlines()]
    for name in ARABIC_NAMES:
        if re.search("[0-9A-Za-z()]", name):
            assert words(name) in [words(line) for line in lines], name
        else:
            assert name in lines


def test_the_drawn_string_is_the_names_visual_form():
    for name in ARABIC_NAMES[:3]:  # pure Arabic: drawn right to left, the stored name reversed
        assert UNSHAPED.search(visual(name)) is None
        assert nfkc(visual(name)[::-1]) == nfkc(name)
    assert "\ufef7" in visual("سلامة الأحمر")  # lam-alef with hamza above, one glyph
    assert visual("مدرسة 12") == "12 " + visual("مدرسة")  # digits in reading order, on the left
    assert visual("محمد Smith") == "Smith " + visual("محمد")
    assert visual("عجرمة (العجارمة)").startswith("(")  # the closing bracket, mirrored
    assert visual("John Smith") == "John Smith"


def test_an_arabic_roll_runs_right_to_left_with_arabic_labels():
    data, _ = roll_pdf(12345, "مدرسة الفاتح", 3, [(10**11, "سلامة الأحمر", "F")], GENERATED)
    page = pages_of(data)[1]
    positions = {}

    def remember(text, cm, tm, font, size):
        if text.strip():
            positions.setdefault(nfkc(text).strip(), tm[4])

    page.extract_text(visitor_text=remember)

    footer = nfkc(page.extract_text()).splitlines()[-1]
    assert "صفحة" in footer and "من" in footer  # "page 1 of 1"
    # Columns from the right: row number, voter number, name; the signature at the left.
    assert positions["رقم"] > positions["رقم الناخب"] > positions["الاسم"] > positions["التوقيع"]


def test_a_station_sign_is_one_landscape_page_naming_center_station_gender_and_range():
    data = sign_pdf(7, "Al-Nour Primary School", 2, "F", "Voter 00000", "Voter 00080")

    (page,) = pages_of(data)
    assert page.mediabox.width > page.mediabox.height
    text = page.extract_text()
    for fact in [
        "Al-Nour Primary School · Center 7",
        "Station 2",
        "Women",
        "From: Voter 00000",
        "To: Voter 00080",
    ]:
        assert fact in text


def test_a_font_without_arabic_letters_is_named_with_the_package_to_install(monkeypatch, caplog):
    vera = [path for path in pdf.FONT_CANDIDATES if path.name == "Vera.ttf"]
    monkeypatch.setattr(pdf, "FONT_CANDIDATES", vera)
    pdf.font.cache_clear()
    try:
        assert "apt-get install fonts-dejavu-core" in pdf.arabic_font_problem()
        data, _ = roll_pdf(1, "School", 1, [(1, "سلامة الأحمر", "F")], GENERATED)
        assert "fonts-dejavu-core" in caplog.text
        assert "?" in text_of(data)[1]  # not a crash: the letters it cannot draw are marked
    finally:
        pdf.font.cache_clear()


def test_the_start_up_check_is_quiet_when_the_font_draws_arabic():
    from voterroll.apps import arabic_font_check

    assert arabic_font_check(None) == []


def test_every_list_page_places_one_drawing_of_the_title_heads_and_lines_to_sign_on():
    data, _ = roll_pdf(7, "Al-Nour Primary School", 2, voters(95), GENERATED)

    full, also_full, short = pages_of(data)[1:]
    forms = [page["/Resources"]["/XObject"] for page in (full, also_full, short)]
    assert {name: form.idnum for name, form in forms[0].items()} == {
        name: form.idnum for name, form in forms[1].items()
    }
    head = full["/Resources"]["/XObject"]["/FormXob.head"].get_object().get_data()
    assert head.count(b"Tj") == 5  # the title and four column heads, drawn once for the file
    content = full.get_contents().get_data()
    assert b"/FormXob.head Do" in content and b"/FormXob.rules Do" in content
    # The last page, 15 voters: its own 15 lines to sign on, not a full page's 40.
    assert b"/FormXob.rules Do" not in short.get_contents().get_data()


class Document:
    """What reportlab keys a font's codes by: one per PDF file."""


def test_the_rolls_font_encodes_text_to_the_bytes_reportlab_would():
    """The font's fast path (a translation table per file) stands in for reportlab's own
    encoding: the same bytes for the same strings in the same order, new letters and all,
    and reportlab's answer where the first subset is full or the font lacks a letter."""
    font_name, _ = pdf.font()
    fast = pdf.pdfmetrics.getFont(font_name)
    plain = pdf.TTFont("PlainVoterRoll", fast.face.filename)
    fast_doc, plain_doc = Document(), Document()
    strings = [
        "Voter 00001",
        "",
        visual("سلامة الأحمر"),
        "Ḥasan\xa0Ṭāhā",
        "Дмитрий",
        "一 not in the font",
        *("".join(map(chr, range(start, start + 40))) for start in (0x410, 0x3B1, 0xFE80, 0xFEC0)),
        visual("عجرمة (العجارمة)"),
        "Voter 00002",
    ]

    assert [fast.splitString(text, fast_doc) for text in strings] == [
        plain.splitString(text, plain_doc) for text in strings
    ]
    column = ["Дмитрий", "Voter 00003"]
    assert fast.encoded(column, fast_doc) == [plain.splitString(text, plain_doc)[0][1] for text in column]
