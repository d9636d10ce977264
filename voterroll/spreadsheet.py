"""CSV cells that a spreadsheet shows and never runs, for every CSV file the product writes.

A cell starting with = + - @, a tab or a carriage return is a formula to Excel, LibreOffice
and Google Sheets (CSV injection); an apostrophe in front makes it text, and the spreadsheet
hides the apostrophe. A register file read back (voterroll.register_file) drops it again.
"""

import re

# A cell a spreadsheet would run as a formula (OWASP's list), after any apostrophes.
FORMULA = re.compile(r"'*[=+\-@\t\r]")


def spreadsheet_safe(text):
    """``text`` for a CSV cell that a spreadsheet shows and never runs: an apostrophe in front of
    a leading = + - @, tab or carriage return (OWASP's advice, which spreadsheets hide), and in
    front of apostrophes already there before one, so that ``unescaped`` gives ``text`` back."""
    return f"'{text}" if FORMULA.match(text) else text


def unescaped(text):
    """A cell as ``spreadsheet_safe`` wrote it, back to the text it was made from."""
    return text[1:] if text.startswith("'") and FORMULA.match(text, 1) else text
