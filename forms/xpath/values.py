"""XPath values and JavaRosa's conversion rules.

A value is a ``bool``, a ``float`` (every XPath number), a ``str``, a ``datetime.date``
(a date), a ``datetime.datetime`` (a dateTime or time; aware when the data carried an offset)
or a :class:`Nodeset`. An empty answer reads as ``""``; as a number it is NaN.

The rules follow JavaRosa's ``XPathFuncExpr`` (``toNumeric``, ``toString``, ``toBoolean``,
``toDate``, ...): dates convert to numbers as whole days since 1970-01-01 in the value's own
(device) time zone, to strings as ``yyyy-mm-dd``, and to booleans as true.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from forms.errors import FormsError

NAN = float("nan")
EPOCH = date(1970, 1, 1)
DAY_SECONDS = 86400.0
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


class EvaluationError(FormsError):
    """An expression that JavaRosa would refuse to evaluate (type mismatch, bad date, ...).

    The checks report it as "not evaluated" with this message; it never stops a run.
    """


class NotImplementedFunction(EvaluationError):
    """An expression calls a function popsurvey does not implement."""


@dataclass(frozen=True)
class Nodeset:
    """An ordered set of instance nodes (see :mod:`forms.xpath.instance`)."""

    nodes: Sequence[Any]

    def __len__(self) -> int:
        return len(self.nodes)

    def values(self) -> list[Any]:
        """Each node's value as an expression reads it ("" for empty or non-relevant)."""
        return [node.read() for node in self.nodes]

    def unpack(self) -> Any:
        """The single value of a one-node set; "" for an empty set (JavaRosa's rule)."""
        if not self.nodes:
            return ""
        if len(self.nodes) > 1:
            raise EvaluationError(
                repeated_field_message(self.nodes[0].path_text(), len(self.nodes))
            )
        return self.nodes[0].read()


def repeated_field_message(path: str, count: int) -> str:
    """The error for a nodeset of ``count`` > 1 nodes read as one value."""
    return f"{path}: a repeated field was used where one value is expected ({count} nodes)"


def unpack(value: Any) -> Any:
    """A scalar for ``value`` (a one-node Nodeset yields its node's value)."""
    return value.unpack() if isinstance(value, Nodeset) else value


def is_null(value: Any) -> bool:
    """JavaRosa's ``isNull``: empty string or NaN."""
    value = unpack(value)
    return (isinstance(value, str) and value == "") or (
        isinstance(value, float) and math.isnan(value)
    )


def to_boolean(value: Any) -> bool:
    """XPath ``boolean()`` as JavaRosa computes it."""
    value = unpack(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return abs(value) > 1.0e-12 and not math.isnan(value)
    if isinstance(value, str):
        return len(value) > 0
    if isinstance(value, date):
        return True
    raise EvaluationError(f"cannot convert {value!r} to a boolean")


def string_to_number(text: str) -> float:
    """JavaRosa's string -> number: ``,`` read as ``.``, only digits ``-`` ``.`` allowed."""
    s = text.replace(",", ".").strip()
    if not s or any(c not in "-.0123456789" for c in s):
        return NAN
    try:
        return float(s)
    except ValueError:
        return NAN


def to_number(value: Any) -> float:
    """XPath ``number()`` as JavaRosa computes it (dates: whole days since the epoch)."""
    value = unpack(value)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, str):
        return string_to_number(value)
    if isinstance(value, datetime):
        return float((value.date() - EPOCH).days)
    if isinstance(value, date):
        return float((value - EPOCH).days)
    raise EvaluationError(f"cannot convert {value!r} to a number")


def to_double(value: Any) -> float:
    """JavaRosa's ``toDouble`` (maths functions): dateTimes keep their fraction of a day."""
    value = unpack(value)
    if isinstance(value, datetime):
        return local_fractional_days(value)
    return to_number(value)


def local_fractional_days(value: datetime) -> float:
    """Days since 1970-01-01 of the wall-clock time in the value's own time zone."""
    naive = value.replace(tzinfo=None)
    return (naive - datetime(1970, 1, 1)).total_seconds() / DAY_SECONDS


def utc_fractional_days(value: date) -> float:
    """Days since 1970-01-01T00:00Z (dates are midnight UTC; naive dateTimes are UTC)."""
    if not isinstance(value, datetime):
        return float((value - EPOCH).days)
    if value.tzinfo is None:
        return local_fractional_days(value)
    seconds = (value - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()
    return seconds / DAY_SECONDS


def java_int(value: float) -> int:
    """Java's ``(int) d``: truncation, saturating at the int range, NaN -> 0."""
    if math.isnan(value):
        return 0
    if value >= INT_MAX:
        return INT_MAX
    if value <= INT_MIN:
        return INT_MIN
    return int(value)


def java_long(value: float) -> int:
    """Java's ``(long) d``: truncation, saturating at the long range, NaN -> 0."""
    if math.isnan(value):
        return 0
    if value >= 2**63 - 1:
        return 2**63 - 1
    if value <= -(2**63):
        return -(2**63)
    return int(value)


def java_double_string(value: float) -> str:
    """Java's ``Double.toString``: ``2.5``, ``1.0E7``, ``1.234E-5``, ``NaN``, ``Infinity``."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    shortest = Decimal(repr(abs(value))).normalize()
    if 1e-3 <= abs(value) < 1e7:
        text = format(shortest, "f")
        return sign + (text if "." in text else text + ".0")
    digits = "".join(str(d) for d in shortest.as_tuple().digits)
    exponent = shortest.adjusted()
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def to_string(value: Any) -> str:
    """XPath ``string()`` as JavaRosa computes it (numbers: ``5`` not ``5.0``)."""
    value = unpack(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        return number_to_string(float(value))
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise EvaluationError(f"cannot convert {value!r} to a string")


def number_to_string(d: float) -> str:
    """JavaRosa's number -> string rule."""
    if math.isnan(d):
        return "NaN"
    if abs(d) < 1.0e-12:
        return "0"
    if math.isinf(d):
        return "-Infinity" if d < 0 else "Infinity"
    as_int = java_int(d)
    if abs(d - as_int) < 1.0e-12:
        return str(as_int)
    return java_double_string(d)


def to_int(value: Any) -> float:
    """XPath ``int()``: truncation towards zero (NaN and infinities unchanged)."""
    d = to_number(value)
    if math.isnan(d) or math.isinf(d) or d >= 2**63 - 1 or d <= -(2**63):
        return d
    truncated = float(int(d))
    if truncated == 0 and (d < 0 or math.copysign(1.0, d) < 0):
        return -0.0
    return truncated


# -- dates ----------------------------------------------------------------------------
def parse_date_time(text: str) -> date | None:
    """JavaRosa's ``DateUtils.parseDateTime``: ``yyyy-m-d`` with an optional ``T`` time.

    Returns a ``date`` for a date alone, an (aware when an offset is given) ``datetime``
    otherwise, or None when the text is not a date.
    """
    if "T" in text:
        day_text, time_text = text.split("T", 1)
    else:
        day_text, time_text = text, None
    day = _parse_day(day_text)
    if day is None:
        return None
    if time_text is None:
        return day
    return _parse_time(time_text, day)


def _java_parse_int(text: str) -> int | None:
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    return int(text)


def _parse_day(text: str) -> date | None:
    pieces = text.split("-")
    if len(pieces) != 3:
        return None
    numbers = [_java_parse_int(p) for p in pieces]
    if any(n is None for n in numbers):
        return None
    try:
        return date(*numbers)  # type: ignore[arg-type]
    except ValueError:
        return None


def _parse_time(text: str, day: date) -> datetime | None:
    offset: timedelta | None = None
    if text.endswith("Z"):
        text, offset = text[:-1], timedelta(0)
    elif "+" in text or "-" in text:
        sign = 1 if "+" in text else -1
        text, zone = text.split("+" if sign == 1 else "-", 1)
        hours_text, _, minutes_text = zone.partition(":")
        hours = _java_parse_int(hours_text)
        minutes = _java_parse_int(minutes_text) if minutes_text else 0
        if hours is None or minutes is None:
            return None
        offset = sign * timedelta(hours=hours, minutes=minutes)
    parts = text.split(":")
    if len(parts) not in (2, 3):
        return None
    hour, minute = _java_parse_int(parts[0]), _java_parse_int(parts[1])
    second, micro = 0, 0
    if len(parts) == 3:
        sec_text, _, frac = parts[2].partition(".")
        second = _java_parse_int(sec_text)  # type: ignore[assignment]
        if frac:
            if not frac.isdigit():
                return None
            micro = int((frac + "000")[:3]) * 1000
    if hour is None or minute is None or second is None:
        return None
    if not (0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 60):
        return None
    tz = timezone(offset) if offset is not None else None
    return datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=tz)


def to_date(value: Any, keep_time: bool) -> Any:
    """XPath ``date()`` (``keep_time`` False) and ``date-time()``: "" and NaN pass through."""
    value = unpack(value)
    if isinstance(value, bool):
        raise EvaluationError(f"the value '{to_string(value)}' can't be converted to a date")
    if isinstance(value, float):
        if math.isnan(value):
            return value
        if math.isinf(value) or value > INT_MAX or value < INT_MIN:
            raise EvaluationError(f'the value "{value}" is out of range for representing a date')
        if keep_time:
            millis = java_long(value * DAY_SECONDS * 1000)
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
        return EPOCH + timedelta(days=int(to_int(value)))
    if isinstance(value, str):
        if value == "":
            return value
        parsed = parse_date_time(value)
        if parsed is None:
            raise EvaluationError(f"the value '{value}' can't be converted to a date")
        # JavaRosa's toDate parses text with DateUtils.parseDateTime and keeps any time
        # even for date(): only a Date value (not text) is rounded to its day
        return parsed
    if isinstance(value, datetime):
        return value if keep_time else value.date()
    if isinstance(value, date):
        return value
    raise EvaluationError(f"the value '{value!r}' can't be converted to a date")


def to_decimal_date_time(
    value: Any, keep_date: bool, device_offset: timedelta = timedelta(0)
) -> Any:
    """``decimal-date-time()`` (``keep_date``) and ``decimal-time()``.

    JavaRosa counts milliseconds since 1970-01-01T00:00Z of the instant; a date (or a text
    without an offset) is midnight (or that wall-clock time) on the device, whose UTC offset
    is ``device_offset`` (see :func:`forms.logic.device_offset`)."""
    value = unpack(value)
    if isinstance(value, float):
        if math.isnan(value):
            return value
        if math.isinf(value) or value > INT_MAX or value < INT_MIN:
            raise EvaluationError(f'the value "{value}" is out of range for representing a date')
        return value if keep_date else value - math.floor(value)
    if isinstance(value, str):
        if value == "":
            return value
        parsed = parse_date_time(value)
        if parsed is None:
            raise EvaluationError(f"the value '{value}' can't be converted to a date")
        value = parsed
    if isinstance(value, date) and not isinstance(value, bool):
        if keep_date:
            shift = 0.0
            if not isinstance(value, datetime) or value.tzinfo is None:
                shift = device_offset.total_seconds() / DAY_SECONDS
            return utc_fractional_days(value) - shift
        if isinstance(value, datetime):
            local = local_fractional_days(value)
            return local - math.floor(local)
        return 0.0
    raise EvaluationError(f"the value '{value!r}' can't be converted to a date")


def normalize_date_fields(value: date) -> datetime:
    """The wall-clock fields of a date or dateTime (in its own zone) as a naive datetime."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime(value.year, value.month, value.day)
