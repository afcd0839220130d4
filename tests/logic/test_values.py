"""JavaRosa conversions, Java regular expressions and OData answers as XPath values."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from forms import read_markdown
from forms.errors import ExpressionError
from forms.xpath.functions import compile_java_regex
from forms.xpath.instance import convert_answer
from forms.xpath.parser import parse, parse_for
from forms.xpath.values import EvaluationError, java_double_string, number_to_string


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2.5, "2.5"),
        (1e7, "1.0E7"),
        (1.234e-5, "1.234E-5"),
        (123456.789, "123456.789"),
        (0.001, "0.001"),
        (-2.5e10, "-2.5E10"),
        (100.0, "100.0"),
        (0.1 + 0.2, "0.30000000000000004"),
    ],
)
def test_java_double_to_string(value, text):
    assert java_double_string(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5.0, "5"),
        (-0.0, "0"),
        (1e-13, "0"),
        (2.5, "2.5"),
        (3e9, "3.0E9"),
        (1e10 + 0.5, "1.00000000005E10"),
    ],
)
def test_javarosa_number_to_string(value, text):
    assert number_to_string(value) == text  # (int) casts saturate at 2^31-1


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        (r"\d{3}", "123", True),
        (r"\w+", "汉字", False),  # Java's \w is ASCII
        (r"\p{L}+", "Ärger", True),
        (r"\p{Lu}.*", "abc", False),
        (r"\QA.B\E", "A.B", True),
        (r"\QA.B\E", "AxB", False),
        (r"[\p{IsHan}]{2}", "汉字", True),
        (r"a++b", "aab", True),  # possessive quantifier
    ],
)
def test_java_regex(pattern, text, matches):
    assert (compile_java_regex(pattern).fullmatch(text) is not None) is matches


def test_java_regex_intersection_is_refused():
    with pytest.raises(EvaluationError):
        compile_java_regex("[a-z&&[^b]]")


def test_parse_errors_name_question_and_text():
    with pytest.raises(ExpressionError, match=r"age: constraint: .* in '\(\. >= 1'"):
        parse_for("(. >= 1", "age", "constraint")
    with pytest.raises(ExpressionError, match="unterminated string"):
        parse("concat('a, 'b')x")


def test_odata_answers_become_xpath_values():
    form = read_markdown("""
| survey |          |      |       |
|        | type     | name | label |
|        | integer  | i    | I     |
|        | date     | d    | D     |
|        | dateTime | dt   | DT    |
|        | geopoint | g    | G     |
|        | geotrace | t    | T     |
|        | calculate| c    |       |
""")
    assert convert_answer(form["i"], 5) == 5.0
    assert convert_answer(form["i"], "") is None
    assert convert_answer(form["i"], "abc") == "abc"  # kept, never lost
    assert convert_answer(form["d"], "2024-02-29") == date(2024, 2, 29)
    assert convert_answer(form["dt"], "2024-05-01T10:00:00.000+08:00") == datetime(
        2024, 5, 1, 10, tzinfo=timezone(timedelta(hours=8))
    )
    point = {"type": "Point", "coordinates": [116.4, 39.9, 12.5], "properties": {"accuracy": 4.0}}
    assert convert_answer(form["g"], point) == "39.9 116.4 12.5 4.0"
    line = {"type": "LineString", "coordinates": [[1.0, 2.0, 0], [3.0, 4.0, 0]]}
    assert convert_answer(form["t"], line) == "2.0 1.0 0 0;4.0 3.0 0 0"
    assert convert_answer(form["c"], 3) == "3"
