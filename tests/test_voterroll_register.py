"""A register file in and out: round trips, every kind of wrong line refused by line with nothing
changed, each accepted dialect, refusal while a run is active, and formula-safe CSV cells."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from tests.voterroll_utils import HEADER, voter_data
from voterroll import loading
from voterroll.fake_data import replace_voter_data
from voterroll.models import PollingCenter, RollRun, Voter
from voterroll.record import stations_csv
from voterroll.spreadsheet import spreadsheet_safe, unescaped

pytestmark = pytest.mark.django_db

# Names a spreadsheet would run as formulas, and ones that only look like escapes.
TRICKY = ["=SUM(A1:A9)", "+1 Ali", "-Mona", "@cmd", "\tTab", "'=already", "''=twice", "'Ali", "O'Neil"]


def write(tmp_path, text, name="register.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def refused(path):
    """import_voters on ``path``, which must fail: its stderr lines and the CommandError."""
    stderr = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("import_voters", str(path), "--yes", stderr=stderr)
    return stderr.getvalue().splitlines(), error.value


@pytest.fixture
def old_data():
    replace_voter_data(30, seed=9)
    return voter_data()


def test_fake_data_exported_imported_and_exported_again_gives_the_same_file(tmp_path):
    replace_voter_data(3000, seed=2, locales=["ar_AA", "en_US"])
    for pk, name in enumerate(TRICKY, start=1):
        Voter.objects.filter(pk=pk).update(name=name)
    PollingCenter.objects.filter(pk=1).update(name='=HYPERLINK("http://x")')
    before = voter_data()

    call_command("export_voters", str(tmp_path / "first.csv"))
    Voter.objects.all().delete()
    call_command("import_voters", str(tmp_path / "first.csv"))
    call_command("export_voters", str(tmp_path / "second.csv"))

    first = (tmp_path / "first.csv").read_bytes()
    assert first == (tmp_path / "second.csv").read_bytes()
    assert voter_data() == before
    assert first.startswith(b"\xef\xbb\xbfvoter_number,name,gender,center_number,center_name\n")
    cells = {cell for row in csv.reader(io.StringIO(first.decode("utf-8-sig"))) for cell in row}
    assert {"'=SUM(A1:A9)", "'+1 Ali", "'-Mona", "'@cmd", "'\tTab", "''=already", "'''=twice"} <= cells
    assert {"'Ali", "O'Neil", '\'=HYPERLINK("http://x")'} <= cells


@pytest.mark.parametrize(
    "text",
    [
        "=1+2",
        "+Ali",
        "-Ali",
        "@Ali",
        "\tAli",
        "\rAli",
        "'=x",
        "''-x",
        "'",
        "'Ali",
        "Ali",
        "",
        "علي",
    ],
)
def test_a_spreadsheet_safe_cell_never_starts_a_formula_and_unescapes_to_the_same_text(text):
    safe = spreadsheet_safe(text)

    assert unescaped(safe) == text
    assert safe[:1] not in {"=", "+", "-", "@", "\t", "\r"}


def test_the_stations_csv_escapes_center_and_voter_names():
    roll, sign = {"pages": 2, "name": "center_7_1.pdf"}, {"pages": 1, "name": "center_7_1_sign.pdf"}
    station = {
        "center": [7, "=cmd|' /C calc'!A0"],
        "station": 1,
        "gender": "F",
        "voters": 2,
        "first": [1, "+Ali"],
        "last": [2, "@Mona"],
        "files": [roll, sign],
    }

    rows = list(csv.reader(io.StringIO(stations_csv([station]).decode())))

    assert rows[1][1] == "'=cmd|' /C calc'!A0" and rows[1][6] == "'+Ali" and rows[1][8] == "'@Mona"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            HEADER + "1,Ali,M,5,School\n2,Mona,F,5,School\n3,Sara,F,6,Other\n",
            id="comma",
        ),
        pytest.param(
            "\ufeffVoter No;Full Name;Sex;Centre;Polling Center Name\r\n"
            "1;Ali;male;5;School\r\n2;Mona;female;5;School\r\n3;Sara;Woman;6;Other\r\n",
            id="semicolon-bom-crlf-aliases",
        ),
        pytest.param(
            "رقم الناخب;الاسم;الجنس;رقم المركز;اسم المركز\n1;Ali;ذكر;5;School\n2;Mona;أنثى;5;School\n"
            "3;Sara;انثى;6;Other\n",
            id="arabic-header-and-genders",
        ),
        pytest.param(
            "center_name,gender,name,center_number,voter_number\n"
            'School,m,Ali,5,1\n School , f ," Mona ",5,2\n\nOther,F,Sara,6,3\n',
            id="any-order-spaces-blank-line",
        ),
        pytest.param(
            'number,name,gender,center,center_name\n1,"Ali, son of Omar",M,5,School\n'
            '2,"Mona ""the quick""",F,5,School\n3,Sara,F,6,Other\n',
            id="quoted-cells",
        ),
    ],
)
def test_each_accepted_dialect_imports_the_same_centers_and_genders(tmp_path, text):
    call_command("import_voters", str(write(tmp_path, text)))

    assert list(PollingCenter.objects.values_list("number", "name")) == [(5, "School"), (6, "Other")]
    imported = voter_data()
    assert [(number, gender, center) for number, _, gender, center, _ in imported] == [
        (1, "M", 5),
        (2, "F", 5),
        (3, "F", 6),
    ]
    assert imported[1][1] in {"Mona", 'Mona "the quick"'}


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (["1,Ali,M,5,School", "2,Mona,F,5"], "line 3: missing columns: 4 cells where the header has 5"),
        (
            ["1,Ali,M,5,School", "2,Mona,F,5,School,x"],
            "line 3: extra columns: 6 cells where the header has 5",
        ),
        (["1,Ali,M,5,School", "2, ,F,5,School"], "line 3: empty name"),
        (["1,Ali,M,5,School", "2,Mona,X,5,School"], "line 3: unknown gender 'X'"),
        (["1,Ali,M,5,School", "0,Mona,F,5,School"], "line 3: voter number '0' is not a whole number"),
        (["1,Ali,M,5,School", "-2,Mona,F,5,School"], "line 3: voter number '-2' is not a whole number"),
        (["1,Ali,M,5,School", "2.5,Mona,F,5,School"], "line 3: voter number '2.5' is not a whole number"),
        (["1,Ali,M,5,School", "abc,Mona,F,5,School"], "line 3: voter number 'abc' is not a whole number"),
        (
            ["1,Ali,M,5,School", "2,Sara,F,6,Other", "1,Mona,F,5,School"],
            "line 4: voter number 1 is used again, first on line 2",
        ),
        (
            ["1,Ali,M,5,School", "2,Mona,F,5,Academy"],
            "line 3: center 5 is named 'Academy' here, 'School' on line 2",
        ),
        ([b"1,Ali,M,5,School", b"2,Mon\xe9,F,5,School"], "line 3: not UTF-8 (byte 0xe9 at 6)"),
        (["1,Ali,M,5,School", "2,Mona,F,0,School"], "line 3: center number '0' is not a whole number"),
        (["1,Ali,M,5,School", "2,Mona,F,5,"], "line 3: empty center name"),
    ],
)
def test_a_wrong_line_is_reported_by_number_and_changes_nothing(tmp_path, old_data, lines, problem):
    if isinstance(lines[0], bytes):
        content = HEADER.encode() + b"\n".join(lines) + b"\n"
    else:
        content = HEADER + "\n".join(lines) + "\n"

    shown, error = refused(write(tmp_path, content))

    assert len(shown) == 1 and shown[0].startswith(problem)
    assert "1 problem(s), listed above; the voter data is unchanged" in str(error) and error.returncode == 1
    assert voter_data() == old_data


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("number,name,gender,center", "line 1: no center_name column"),
        ("number,name,gender,center,center_name,birth_date", "line 1: unknown column 'birth_date'"),
        ("number,voter_no,name,gender,center,center_name", "line 1: two columns are voter_number"),
    ],
)
def test_a_header_without_the_five_columns_is_refused(tmp_path, old_data, header, problem):
    shown, _ = refused(write(tmp_path, f"{header}\n1,Ali,M,5,School\n"))

    assert shown[0].startswith(problem) and "the columns are voter_number, name, gender" in shown[0]
    assert voter_data() == old_data


def test_an_empty_file_or_one_without_voters_is_refused(tmp_path, old_data):
    assert refused(write(tmp_path, ""))[0] == ["line 1: the file is empty"]
    assert refused(write(tmp_path, HEADER))[0] == ["line 1: no voters in the file"]
    assert voter_data() == old_data


def test_every_problem_is_found_the_first_50_shown_and_the_rest_counted(tmp_path, old_data):
    rows = [f"{n},Voter {n},{'X' if n % 2 else 'F'},5,School" for n in range(1, 131)]

    shown, error = refused(write(tmp_path, HEADER + "\n".join(rows) + "\n"))

    assert len(shown) == 51
    assert shown[0].startswith("line 2: unknown gender") and shown[49].startswith("line 100: unknown gender")
    assert shown[50] == "… and 15 more problems"
    assert "65 problem(s)" in str(error)
    assert voter_data() == old_data


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"Cannot read .*nowhere\.csv: No such file or directory"):
        call_command("import_voters", str(tmp_path / "nowhere.csv"))


def test_the_import_is_refused_while_a_run_is_active(tmp_path, old_data):
    run = RollRun.objects.create(option="all_in_one", status="running")

    with pytest.raises(
        CommandError, match=rf"Voter data left unchanged: Run {run.pk} \(all_in_one\) is still running"
    ):
        call_command("import_voters", str(write(tmp_path, HEADER + "1,Ali,M,5,School\n")), "--yes")

    assert voter_data() == old_data


def test_an_import_interrupted_while_writing_leaves_the_old_data_whole(tmp_path, monkeypatch, old_data):
    rows = "".join(f"{n},Voter {n},F,{n // 3000 + 1},School {n // 3000}\n" for n in range(1, 12001))
    insert = loading.insert
    inserted = []

    def interrupted_after_some_batches(model, columns, batch):
        insert(model, columns, batch)
        inserted.append(len(batch))
        if model is Voter and len(inserted) > 3:  # centers, then voters and registrations
            raise KeyboardInterrupt

    monkeypatch.setattr(loading, "insert", interrupted_after_some_batches)
    with pytest.raises(CommandError, match="Interrupted: the voter data is as it was") as error:
        call_command("import_voters", str(write(tmp_path, HEADER + rows)), "--yes")

    assert error.value.returncode == 130 and sum(inserted) > 10_000
    assert voter_data() == old_data


def test_voter_numbers_used_again_are_found_after_the_other_problems_and_listed_in_line_order(tmp_path):
    rows = [f"{1 if n <= 60 else n},Voter {n},{'X' if n == 80 else 'F'},5,School" for n in range(1, 81)]

    shown, error = refused(write(tmp_path, HEADER + "\n".join(rows) + "\n"))

    assert shown[0] == "line 3: voter number 1 is used again, first on line 2"
    assert shown[49] == "line 52: voter number 1 is used again, first on line 2"
    assert shown[50] == "… and 10 more problems"  # nine more uses of 1, and line 81's gender
    assert "60 problem(s)" in str(error)


def test_the_import_asks_before_replacing_voters_and_without_a_terminal_refuses(tmp_path, old_data):
    path = write(tmp_path, HEADER + "1,Ali,M,5,School\n")

    with pytest.raises(CommandError, match=r"30 voters in 1 polling center exist .* --yes"):
        call_command("import_voters", str(path), stdin=io.StringIO())

    assert voter_data() == old_data
    call_command("import_voters", str(path), "--yes", stdin=io.StringIO())
    assert voter_data() == [(1, "Ali", "M", 5, "School")]
