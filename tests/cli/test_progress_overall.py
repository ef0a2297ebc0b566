"""The terminal view's overall bar: every table of the load, rows done of the estimated total,
corrected as tables finish, above the per-table bars (issue #14)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from rich.console import Console

from dersonlake.cli.progress import TerminalProgress


@dataclass(frozen=True)
class Table:
    """The two fields of a TablePlan the view reads (a plan needs a catalog; the view needs names)."""

    source: str
    target: str


def render(view: TerminalProgress) -> str:
    view._bars.refresh()
    return view.console.file.getvalue()


def screen_lines(view: TerminalProgress) -> list[str]:
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", render(view))
    return [line for line in text.splitlines() if line.strip()]


def new_view() -> TerminalProgress:
    console = Console(file=io.StringIO(), force_terminal=True, width=160, color_system=None)
    return TerminalProgress(console)


def test_overall_bar_counts_every_planned_table_before_they_start():
    a, b, c = Table("s.a", "s.a"), Table("s.b", "s.b"), Table("s.c", "s.c")
    with new_view() as view:
        view.load_planned([(a, 1000), (b, 500), (c, 250)])
        view.table_started(a, 1000)
        view.rows_loaded(a, 400)
        overall = view._bars.tasks[0]
        assert (overall.completed, overall.total) == (400, 1750)
        assert overall.fields["name"] == "all 3 tables (0 done)"
        assert overall.fields["rate"].endswith("rows/s")
        first = screen_lines(view)[-2]  # the overall bar is drawn above the table's bar
        assert "all 3 tables (0 done)" in first and "400/1750" in first
        assert "s.a" in screen_lines(view)[-1]


def test_a_finished_table_replaces_its_estimate_with_its_real_rows():
    a, b = Table("s.a", "s.a"), Table("s.b", "s.b")
    with new_view() as view:
        view.load_planned([(a, 1000), (b, 500)])
        view.table_started(a, 1000)
        view.rows_loaded(a, 700)
        view.table_finished(a, "Table completed", 700, None)  # the catalog over-estimated
        overall = view._bars.tasks[0]
        assert (overall.completed, overall.total) == (700, 1200)
        assert overall.fields["name"] == "all 2 tables (1 done)"
        view.table_started(b, 500)
        view.rows_loaded(b, 900)  # under-estimated: the total grows, never below what is done
        assert (overall.completed, overall.total) == (1600, 1600)
        view.table_finished(b, "Table completed", 900, None)
        assert (overall.completed, overall.total) == (1600, 1600)
        assert overall.fields["name"] == "all 2 tables (2 done)"


def test_without_a_plan_the_overall_bar_grows_with_the_tables_that_start():
    a, b = Table("s.a", "s.a"), Table("s.b", "s.b")
    with new_view() as view:
        view.table_started(a, 100)
        view.table_started(b, 300)
        view.rows_loaded(b, 30)
        overall = view._bars.tasks[0]
        assert (overall.completed, overall.total) == (30, 400)
        assert overall.fields["name"] == "all 2 tables (0 done)"
