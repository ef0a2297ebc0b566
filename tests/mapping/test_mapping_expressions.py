"""Expression rewriting and SQLite evaluation details that the batch tests do not pin."""

from __future__ import annotations

import pytest

from dersonlake.errors import BadInput
from dersonlake.mapping.expressions import evaluate, parse_expression
from dersonlake.mapping.filters import quote_ident


def test_the_docs_example_with_double_quoted_strings() -> None:
    expr = parse_expression('replaceChars("abcde","abcd","123")', "e")
    assert evaluate(expr, 2, {}, {}, {}) == ["1231e", "1231e"]


def test_dollar_inside_a_literal_is_text_not_a_reference() -> None:
    expr = parse_expression("'$price: ' || $amount", "e")
    assert expr.columns == ("amount",)
    assert evaluate(expr, 1, {"amount": ["9.5"]}, {}, {}) == ["$price: 9.5"]


def test_values_are_bound_not_pasted() -> None:
    expr = parse_expression("$name || '!'", "e")
    assert "name" not in expr.sql
    assert evaluate(expr, 1, {"name": ["'); DROP TABLE t; --"]}, {}, {}) == ["'); DROP TABLE t; --!"]


def test_operation_indicator_follows_each_rows_operation() -> None:
    expr = parse_expression("operation_indicator('D', 'U', 'I')", "e")
    ops = {"AR_H_OPERATION": ["DELETE", "UPDATE", "INSERT"]}
    assert evaluate(expr, 3, {}, ops, {}) == ["D", "U", "I"]


def test_numeric_affinity_makes_text_numbers_compare_as_numbers() -> None:
    expr = parse_expression("$amount > 9", "e")
    assert evaluate(expr, 1, {"amount": ["10.00"]}, {}, {}, {"amount": "NUMERIC"}) == [1]
    assert evaluate(expr, 1, {"amount": ["10.00"]}, {}, {}, {"amount": "TEXT"}) == [
        0
    ]  # "10.00" < "9" as text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("operation_indicator('D', 'U')", "operation_indicator takes three quoted flags"),
        ("upper(", "is not a valid SQLite expression"),
        ("nosuchfn($a)", "no such function: nosuchfn"),
        ("", "must be a non-empty SQLite expression"),
        ("$AR_M_SOURCE_TABLE", "unknown metadata column"),
    ],
)
def test_bad_expressions(text: str, fragment: str) -> None:
    with pytest.raises(BadInput, match=fragment):
        parse_expression(text, "rules[0].expression")


def test_identifiers_are_backtick_quoted_with_backticks_doubled() -> None:
    assert quote_ident("we`ird") == "`we``ird`"
