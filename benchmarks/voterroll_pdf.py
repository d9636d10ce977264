"""Pages per second of the station PDF writer, beside a bare canvas doing the least per page.

    .venv/bin/python benchmarks/voterroll_pdf.py [STATIONS]

Writes STATIONS (default 200) full stations of 500 voters (13 pages each) to a temporary
folder on one core, and as many pages of the same rows the plain way (a drawString per cell)
for comparison.
"""
import random
import sys
import tempfile
import time
from pathlib import Path

from reportlab.pdfgen import canvas

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voterroll.pdf import page_count, write_station_pdf  # noqa: E402

VOTERS_PER_STATION = 500


def bare_canvas_pages_per_second(folder, voters, pages):
    """The plain way to draw the same pages: a drawString per cell, Helvetica, defaults."""
    start = time.perf_counter()
    pdf = canvas.Canvas(str(folder / "bare.pdf"))
    for page in range(pages):
        rows = voters[(page * 40) % len(voters) :][:40]
        pdf.drawString(40, 800, f"Benchmark School, center 1, station {page}")
        for row, (voter_id, name) in enumerate(rows):
            y = 770 - row * 17
            pdf.drawString(40, y, str(row + 1))
            pdf.drawString(80, y, str(voter_id))
            pdf.drawString(170, y, name.encode("latin-1", "replace").decode("latin-1"))
            pdf.line(380, y - 3, 560, y - 3)
        pdf.drawString(280, 20, f"Page {page + 1} of {pages}")
        pdf.showPage()
    pdf.save()
    return pages / (time.perf_counter() - start)


def main(stations):
    rng = random.Random(0)
    letters = "abcdefghijklmnopqrstuvwxyz"
    def name():
        return " ".join("".join(rng.choices(letters, k=7)).title() for _ in range(2))

    voters = sorted((rng.randrange(10**11, 10**12), name()) for _ in range(VOTERS_PER_STATION))
    voters.append((1, "Ali Ḥasan علي حسن"))  # outside Latin-1, as real rolls have
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        write_station_pdf(folder / "warm.pdf", 1, "Warm-up", 1, voters)  # font loading
        start = time.perf_counter()
        pages = sum(
            write_station_pdf(folder / f"center_1_{n}.pdf", 1, "Benchmark School", n, voters)
            for n in range(1, stations + 1)
        )
        elapsed = time.perf_counter() - start
        size = sum(path.stat().st_size for path in folder.glob("center_*.pdf")) / stations
        bare = bare_canvas_pages_per_second(folder, voters, pages)
    assert pages == stations * page_count(len(voters))
    print(f"station PDFs: {stations} x {len(voters)} voters = {pages} pages in {elapsed:.2f} s")
    print(f"writer:       {pages / elapsed:.0f} pages/s, {stations / elapsed:.1f} stations/s, "
          f"{size / 1024:.0f} KiB per station")  # fmt: skip
    print(f"bare canvas:  {bare:.0f} pages/s (same rows, a drawString per cell, Helvetica)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
