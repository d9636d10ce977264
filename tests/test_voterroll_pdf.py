"""The station PDF: pages of 40 rows, every voter once and in order, any script, atomic."""
import pypdf

from voterroll.pdf import ROWS_PER_PAGE, write_station_pdf


def voters(count):
    return [(10**11 + n, f"Voter {n:05d}") for n in range(count)]


def text_of(path):
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def test_pdf_has_a_page_per_40_voters_and_says_page_x_of_y(tmp_path):
    path = tmp_path / "center_7_2.pdf"

    pages = write_station_pdf(path, 7, "Al-Nour Primary School", 2, voters(81))

    assert ROWS_PER_PAGE == 40
    assert pages == 3
    texts = text_of(path)
    assert len(texts) == 3
    for number, text in enumerate(texts, start=1):
        assert "Al-Nour Primary School — center 7, station 2" in text
        assert f"Page {number} of 3" in text
        assert "Signature" in text


def test_pdf_lists_every_voter_once_in_order_with_row_numbers(tmp_path):
    path = tmp_path / "center_7_1.pdf"
    station = voters(95)

    write_station_pdf(path, 7, "School", 1, station)

    text = "\n".join(text_of(path))
    lines = text.splitlines()
    positions = [lines.index(f"Voter {n:05d}") for n in range(95)]
    assert positions == sorted(positions)
    assert all(text.count(str(voter_id)) == 1 for voter_id, _ in station)
    row_numbers = [line for line in lines if line.isdigit() and len(line) <= 2]
    assert row_numbers == [str(n) for n in range(1, 96)]


def test_names_outside_latin_1_do_not_crash_the_writer(tmp_path):
    path = tmp_path / "center_1_1.pdf"
    names = [(1, "Ḥasan Ṭāhā"), (2, "علي حسن"), (3, "Дмитрий Иванов"), (4, "李小龍")]

    pages = write_station_pdf(path, 1, "Madrasat Al-Fajr — مدرسة الفجر", 1, names)

    assert pages == 1
    text = text_of(path)[0]
    assert "Ḥasan Ṭāhā" in text
    assert "Дмитрий Иванов" in text


def test_an_empty_station_still_makes_one_page(tmp_path):
    assert write_station_pdf(tmp_path / "center_1_1.pdf", 1, "School", 1, []) == 1


def test_writing_leaves_only_the_finished_pdf_and_replaces_an_old_one(tmp_path):
    path = tmp_path / "center_1_1.pdf"
    path.write_bytes(b"an older roll")

    write_station_pdf(path, 1, "School", 1, voters(3))

    assert [entry.name for entry in tmp_path.iterdir()] == ["center_1_1.pdf"]
    assert path.read_bytes().startswith(b"%PDF")
