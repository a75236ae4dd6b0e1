"""Issue 22, finding 11: report CSV cells starting with = + - @ are not written verbatim."""

import csv
import io

from core.schedule.report import csv_cell


def test_formula_cells_are_escaped() -> None:
    for bad in ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"):
        out = io.StringIO()
        csv.writer(out).writerow([csv_cell(bad)])
        (cell,) = next(csv.reader(io.StringIO(out.getvalue())))
        assert cell == "'" + bad
    assert csv_cell("Budi") == "Budi"
    assert csv_cell(7) == 7
