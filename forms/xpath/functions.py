"""The XPath function library with JavaRosa's semantics (scalar, one record at a time).

:data:`FUNCTIONS` maps each function name to a :class:`FunctionSpec`. Plain functions take
evaluated arguments; *special* ones (``if``, ``coalesce``, ``once``, ``position``,
``indexed-repeat``, ``current``, ``instance``, ``jr:choice-name``, ...) get the unevaluated
argument trees and the evaluation context and are implemented by the interpreter.

Arity is checked when an expression is compiled (:func:`check_call`), so a wrong number of
arguments is reported by ``form check``, not in the middle of a data run.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import re
import uuid as uuid_module
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from forms.errors import ExpressionError
from forms.xpath.values import (
    NAN,
    EvaluationError,
    Nodeset,
    java_double_string,
    java_int,
    java_long,
    normalize_date_fields,
    to_boolean,
    to_date,
    to_decimal_date_time,
    to_double,
    to_int,
    to_number,
    to_string,
    unpack,
)

EARTH_RADIUS_M = 6_378_100.0
EARTH_CIRCUMFERENCE_M = 2 * EARTH_RADIUS_M * math.pi


@dataclass(frozen=True)
class FunctionSpec:
    """A library function: allowed argument counts and, for plain functions, the code."""

    name: str
    min_args: int
    max_args: int | None
    impl: Callable[..., Any] | None = None
    """Takes the evaluated arguments; None for special forms done by the interpreter."""
    deterministic: bool = True
    odd_args: bool = False
    """indexed-repeat wants 3, 5, 7, ... arguments; weighted-checklist an even count."""
    even_args: bool = False


def check_call(name: str, count: int) -> FunctionSpec:
    """The spec of function ``name`` called with ``count`` arguments.

    Raises :class:`ExpressionError` for a wrong argument count; returns None-free spec.
    Unknown functions are the caller's business (see :data:`FUNCTIONS`).
    """
    spec = FUNCTIONS[name]
    too_few = count < spec.min_args
    too_many = spec.max_args is not None and count > spec.max_args
    parity = (spec.odd_args and count % 2 == 0) or (spec.even_args and count % 2 == 1)
    if too_few or too_many or parity:
        if spec.max_args == spec.min_args:
            wanted = f"{spec.min_args}"
        elif spec.max_args is None:
            wanted = f"at least {spec.min_args}"
        else:
            wanted = f"{spec.min_args} to {spec.max_args}"
        if spec.odd_args:
            wanted = "3, 5, 7, 9 or 11"
        raise ExpressionError(f"function '{name}' takes {wanted} arguments, not {count}")
    return spec


# -- plain functions ------------------------------------------------------------------
def _nodeset_or_args(args: tuple[Any, ...]) -> list[Any]:
    if len(args) == 1 and isinstance(args[0], Nodeset):
        return args[0].values()
    return list(args)


def fn_round(value: Any, places: Any = 0.0) -> float:
    """``round(x[, places])``: halves go up (towards +infinity), as JavaRosa's BigDecimal rule."""
    number = to_number(value)
    digits = java_int(to_number(places))
    if math.isnan(number) or math.isinf(number):
        return number
    if digits > 30 or digits < -30:
        return NAN
    if digits >= 0:
        method = ROUND_HALF_DOWN if number < 0 else ROUND_HALF_UP
        exact = Decimal(java_double_string(number).replace("E", "e"))
        return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=method))
    # JavaRosa: (long)(scaled + 0.5), i.e. truncation of x + 0.5 (also for negatives)
    scaled = float(Decimal(repr(number)).scaleb(digits))
    rounded = Decimal(java_long(scaled + 0.5))
    return float(rounded.scaleb(-digits))


def fn_max(*args: Any) -> float:
    """``max(nodeset)`` / ``max(a, b, ...)``: NaN when no value is numeric.

    JavaRosa starts from ``Double.MIN_VALUE`` (the smallest positive double), so the
    maximum of negative numbers is 4.9E-324; this is reproduced on purpose.
    """
    result, found = 5e-324, False
    for value in _nodeset_or_args(args):
        number = to_number(value)
        if not math.isnan(number):
            result, found = max(result, number), True
    return result if found else NAN


def fn_min(*args: Any) -> float:
    """``min(nodeset)`` / ``min(a, b, ...)``: NaN when no value is numeric."""
    result, found = 1.7976931348623157e308, False
    for value in _nodeset_or_args(args):
        number = to_number(value)
        if not math.isnan(number):
            result, found = min(result, number), True
    return result if found else NAN


def fn_sum(nodes: Any) -> float:
    """``sum(nodeset)``: the numeric values added, empty and non-numeric ones skipped."""
    if not isinstance(nodes, Nodeset):
        raise EvaluationError("sum() needs a field or a path, not a value")
    total = 0.0
    for value in nodes.values():
        number = to_number(value)
        if not math.isnan(number):
            total += number
    return total


def fn_count(nodes: Any) -> float:
    """``count(nodeset)``: the number of nodes (repeat instances)."""
    if not isinstance(nodes, Nodeset):
        raise EvaluationError("count() needs a field or a path, not a value")
    return float(len(nodes))


def fn_count_non_empty(nodes: Any) -> float:
    """``count-non-empty(nodeset)``: nodes whose value is not empty."""
    if not isinstance(nodes, Nodeset):
        raise EvaluationError("count-non-empty() needs a field or a path, not a value")
    return float(sum(1 for v in nodes.values() if to_string(v) != ""))


def _select_string(value: Any, function: str) -> str:
    value = unpack(value)
    if not isinstance(value, str):
        raise EvaluationError(f"{function}() needs a select answer, got {to_string(value)!r}")
    return value


def fn_selected(answer: Any, choice: Any) -> bool:
    """``selected(answer, 'code')``: is ``code`` one of the space-separated tokens?"""
    code = unpack(choice)
    if not isinstance(code, str):
        raise EvaluationError("the second parameter to selected() must be in quotes (like '1')")
    return f" {code.strip()} " in f" {_select_string(answer, 'selected')} "


def _tokens(text: str) -> list[str]:
    return [t for t in text.split(" ") if t]


def fn_count_selected(answer: Any) -> float:
    """``count-selected(answer)``: the number of tokens."""
    return float(len(_tokens(_select_string(answer, "count-selected"))))


def fn_selected_at(answer: Any, index: Any) -> str:
    """``selected-at(answer, n)``: the n-th token (0-based), "" when out of range."""
    tokens = _tokens(_select_string(answer, "selected-at"))
    position = java_int(to_int(index))
    return tokens[position] if 0 <= position < len(tokens) else ""


def fn_join(separator: Any, *args: Any) -> str:
    """``join(sep, nodeset)`` / ``join(sep, a, b, ...)``."""
    values = args[0].values() if len(args) == 1 and isinstance(args[0], Nodeset) else list(args)
    return to_string(separator).join(to_string(v) for v in values)


def fn_concat(*args: Any) -> str:
    """``concat(a, b, ...)`` (a single nodeset argument is joined)."""
    return "".join(to_string(v) for v in _nodeset_or_args(args))


def fn_substr(value: Any, start: Any, end: Any = None) -> str:
    """``substr(s, start[, end])``: 0-based, negative indexes count from the end."""
    text = to_string(value)
    length = len(text)
    begin = _java_int_of(to_int(start))
    stop = _java_int_of(to_int(end)) if end is not None else length
    if begin < 0:
        begin += length
    if stop < 0:
        stop += length
    stop = min(max(0, stop), length)
    begin = min(max(0, begin), length)
    return text[begin:stop] if begin <= stop else ""


_java_int_of = java_int


def fn_substring_before(value: Any, part: Any) -> str:
    """``substring-before(s, t)``: "" when ``t`` is absent."""
    text, sub = to_string(value), to_string(part)
    pos = text.find(sub)
    return text[:pos] if pos >= 0 else ""


def fn_substring_after(value: Any, part: Any) -> str:
    """``substring-after(s, t)``: "" when ``t`` is absent."""
    text, sub = to_string(value), to_string(part)
    pos = text.find(sub)
    return text[pos + len(sub) :] if pos >= 0 else ""


def fn_translate(value: Any, source: Any, target: Any) -> str:
    """``translate(s, from, to)``: characters of ``from`` beyond ``to`` are deleted."""
    text, frm, to = to_string(value), to_string(source), to_string(target)
    out = []
    for char in text:
        pos = frm.find(char)
        if pos == -1:
            out.append(char)
        elif pos < len(to):
            out.append(to[pos])
    return "".join(out)


def fn_normalize_space(value: Any) -> str:
    """``normalize-space(s)``: trimmed, runs of white space made one space."""
    return re.sub(r"\s+", " ", to_string(value).strip(" \t\n\r\x0b\x0c"))


def fn_boolean_from_string(value: Any) -> bool:
    """``boolean-from-string(s)``: true for ``true`` (any case) and ``1`` only."""
    text = to_string(value)
    return text.lower() == "true" or text == "1"


def fn_checklist(minimum: Any, maximum: Any, *factors: Any) -> bool:
    """``checklist(min, max, ...)``: count of true factors within [min, max] (-1: no bound)."""
    low, high = _java_int_of(to_number(minimum)), _java_int_of(to_number(maximum))
    count = sum(1 for f in _nodeset_or_args(factors) if to_boolean(f))
    return (low < 0 or count >= low) and (high < 0 or count <= high)


def fn_weighted_checklist(minimum: Any, maximum: Any, *pairs: Any) -> bool:
    """``weighted-checklist(min, max, flag1, weight1, ...)``: summed weights within bounds."""
    if len(pairs) == 2 and all(isinstance(p, Nodeset) for p in pairs):
        flags, weights = pairs[0].values(), pairs[1].values()
        if len(flags) != len(weights):
            raise EvaluationError("weighted-checklist: nodesets not same length")
    else:
        flags, weights = list(pairs[0::2]), list(pairs[1::2])
    total = sum(to_number(w) for f, w in zip(flags, weights, strict=False) if to_boolean(f))
    return to_number(minimum) <= total <= to_number(maximum)


def fn_regex(value: Any, pattern: Any) -> bool:
    """``regex(s, re)``: does the WHOLE string match the Java regular expression?"""
    return compile_java_regex(to_string(pattern)).fullmatch(to_string(value)) is not None


_ASCII_ESCAPES = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "w": "[A-Za-z0-9_]",
    "W": "[^A-Za-z0-9_]",
    "s": "[ \\t\\n\\x0b\\f\\r]",
    "S": "[^ \\t\\n\\x0b\\f\\r]",
}
"""Java's default (ASCII) meaning of the shorthand classes; Python's are Unicode."""

_JAVA_CLASSES = {
    "L": r"^\W\d_",
    "IsAlphabetic": r"^\W\d_",
    "Alpha": "a-zA-Z",
    "Lu": "A-Z\u00c0-\u00de",
    "Upper": "A-Z",
    "Ll": "a-z\u00df-\u00ff",
    "Lower": "a-z",
    "N": "0-9\u0660-\u0669\u06f0-\u06f9\u0966-\u096f\uff10-\uff19",
    "Nd": "0-9\u0660-\u0669\u06f0-\u06f9\u0966-\u096f\uff10-\uff19",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": r"!-/:-@\[-`{-~",
    "Space": r" \t\n\x0b\f\r",
    "IsHan": "\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3038-\u303b\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0003134f",
    "InCJKUnifiedIdeographs": "\u4e00-\u9fff",
    "ASCII": r"\x00-\x7f",
}


@lru_cache(maxsize=512)
def compile_java_regex(pattern: str) -> re.Pattern[str]:
    """Compile a Java regular expression with Python's ``re``, keeping Java's meaning.

    ``\\d \\w \\s`` are ASCII-only as in Java; ``\\p{L}``, ``\\p{IsHan}``, ``\\p{Lu}``
    and the POSIX classes are translated; ``\\Q...\\E`` quoting is expanded. Constructs
    with no Python equivalent (class intersection ``&&``) raise EvaluationError.
    """
    translated = _translate_java_regex(pattern)
    try:
        return re.compile(translated)
    except re.error as err:
        raise EvaluationError(f"invalid regular expression '{pattern}': {err}") from None


def _translate_java_regex(pattern: str) -> str:
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2 :] if end == -1 else pattern[i + 2 : end]
                out.append(re.escape(literal))
                i = len(pattern) if end == -1 else end + 2
                continue
            if nxt in "pP" and i + 2 < len(pattern):
                if pattern[i + 2] == "{":
                    close = pattern.find("}", i + 3)
                    name = pattern[i + 3 : close] if close != -1 else ""
                    step = close + 1
                else:
                    name, step = pattern[i + 2], i + 3
                body = _JAVA_CLASSES.get(name.removeprefix("Is") if name == "IsL" else name)
                if body is None:
                    raise EvaluationError(
                        f"regular expression class \\{nxt}{{{name}}} is not supported"
                    )
                negate = nxt == "P"
                if body.startswith("^"):  # "letters": not (non-word, digit, underscore)
                    inner = body[1:]
                    out.append(f"[{'' if negate else '^'}{inner}]" if not in_class else inner)
                    if in_class:
                        raise EvaluationError("\\p{L} inside a character class is not supported")
                elif in_class:
                    if negate:
                        raise EvaluationError("\\P{..} inside a character class is not supported")
                    out.append(body)
                else:
                    out.append(f"[{'^' if negate else ''}{body}]")
                i = step
                continue
            if nxt in _ASCII_ESCAPES:
                if in_class and nxt in "DWS":
                    raise EvaluationError(f"\\{nxt} inside a character class is not supported")
                body = _ASCII_ESCAPES[nxt]
                out.append(body if not in_class else body[1:-1])
                i += 2
                continue
            if nxt == "h":
                out.append(r"[ \t\xa0\u1680\u180e\u2000-\u200a\u202f\u205f\u3000]")
                i += 2
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class and out and out[-1] not in ("[", "[^"):
            in_class = False
        elif char == "&" and in_class and pattern[i : i + 2] == "&&":
            raise EvaluationError("character class intersection (&&) is not supported")
        out.append(char)
        i += 1
    return "".join(out)


def fn_digest(value: Any, algorithm: Any, encoding: Any = "base64") -> str:
    """``digest(s, 'SHA-256'[, 'hex'|'base64'])`` of the UTF-8 bytes of ``s``."""
    name = to_string(algorithm).upper().replace("-", "")
    algorithms = {
        "MD5": "md5",
        "SHA1": "sha1",
        "SHA256": "sha256",
        "SHA384": "sha384",
        "SHA512": "sha512",
    }
    if name not in algorithms:
        raise EvaluationError(f"digest(..., '{to_string(algorithm)}', ...) is not supported")
    raw = hashlib.new(algorithms[name], to_string(value).encode("utf-8")).digest()
    enc = to_string(encoding).lower()
    if enc == "hex":
        return raw.hex()
    if enc == "base64":
        return base64.b64encode(raw).decode("ascii")
    raise EvaluationError(f"digest(..., ..., '{to_string(encoding)}') is not supported")


def fn_base64_decode(value: Any) -> str:
    """``base64-decode(s)``: the UTF-8 text of the decoded bytes."""
    try:
        return base64.b64decode(to_string(value)).decode("utf-8", errors="replace")
    except ValueError:
        return ""


def parse_geopoints(text: str, function: str) -> list[tuple[float, float]]:
    """``"lat lon alt acc;lat lon ..."`` -> [(lat, lon), ...] (JavaRosa's GeoPointData)."""
    points = []
    for part in text.split(";"):
        numbers = [t for t in part.strip().split(" ") if t]
        try:
            if len(numbers) < 2:
                raise ValueError
            points.append((float(numbers[0]), float(numbers[1])))
        except ValueError:
            raise EvaluationError(
                f"the function '{function}' received a value that does not represent GPS "
                "coordinates"
            ) from None
    return points


def _points(args: tuple[Any, ...], function: str) -> list[tuple[float, float]]:
    if len(args) == 1:
        arg = args[0]
        if isinstance(arg, Nodeset):
            values = arg.values()
            if len(values) == 1:
                return parse_geopoints(to_string(values[0]), function)
            return [p for v in values for p in parse_geopoints(to_string(v), function)]
        if isinstance(arg, str):
            return parse_geopoints(arg, function)
        raise EvaluationError(f"function '{function}' requires a field or text as the parameter")
    return [p for a in args for p in parse_geopoints(to_string(a), function)]


def fn_distance(*args: Any) -> float:
    """``distance(trace | point1, point2, ...)``: metres along the points (JavaRosa's
    spherical law of cosines on a 6,378,100 m sphere)."""
    points = _points(args, "distance")
    total = 0.0
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(points):
        dl = math.radians(lon1 - lon2)
        p1, p2 = math.radians(lat1), math.radians(lat2)
        cosine = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
        total += math.acos(cosine) * EARTH_RADIUS_M if -1.0 <= cosine <= 1.0 else NAN
    return total


def fn_area(shape: Any) -> float:
    """``area(geoshape)``: square metres (JavaRosa's planar triangle fan around point 1)."""
    if not isinstance(shape, Nodeset):
        raise EvaluationError("function 'area' requires a field as the parameter")
    points = _points((shape,), "area")
    if len(points) < 3:
        return 0.0
    lat0, lon0 = points[0]
    ys = [(lat - lat0) * EARTH_CIRCUMFERENCE_M / 360.0 for lat, _ in points[1:]]
    xs = [
        (lon - lon0) * EARTH_CIRCUMFERENCE_M * math.cos(math.radians(lat)) / 360.0
        for lat, lon in points[1:]
    ]
    total = 0.0
    for i in range(1, len(xs)):
        total += (ys[i - 1] * xs[i] - xs[i - 1] * ys[i]) / 2
    return abs(total)


def fn_geofence(point: Any, shape: Any) -> bool:
    """``geofence(point, shape)``: is the point inside the polygon (ray casting)?"""
    (lat, lon), *_ = parse_geopoints(to_string(point), "geofence")
    polygon = _points((shape,), "geofence")
    inside = False
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(polygon):
        if (lat2 > lat) != (lat1 > lat) and lon < (lon1 - lon2) * (lat - lat2) / (
            lat1 - lat2
        ) + lon2:
            inside = not inside
    return inside


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def fn_format_date(value: Any, pattern: Any) -> str:
    """``format-date(d, '%Y-%m-%d')``: JavaRosa's escapes %Y %y %m %n %b %d %e %H %h %M %S
    %3 %a %W %%; "" for an empty date."""
    parsed = to_date(value, True)
    if not isinstance(parsed, date):
        return ""
    fields = normalize_date_fields(parsed)
    fmt = to_string(pattern)
    out: list[str] = []
    i = 0
    while i < len(fmt):
        char = fmt[i]
        if char != "%":
            out.append(char)
            i += 1
            continue
        i += 1
        if i >= len(fmt):
            raise EvaluationError("date format string ends with %")
        out.append(_date_escape(fmt[i], fields))
        i += 1
    return "".join(out)


def _date_escape(code: str, f: datetime) -> str:
    simple: dict[str, Callable[[datetime], str]] = {
        "%": lambda d: "%",
        "Y": lambda d: f"{d.year:04d}",
        "y": lambda d: f"{d.year:04d}"[2:],
        "m": lambda d: f"{d.month:02d}",
        "n": lambda d: str(d.month),
        "b": lambda d: _MONTHS[d.month - 1],
        "d": lambda d: f"{d.day:02d}",
        "e": lambda d: str(d.day),
        "H": lambda d: f"{d.hour:02d}",
        "h": lambda d: str(d.hour),
        "M": lambda d: f"{d.minute:02d}",
        "S": lambda d: f"{d.second:02d}",
        "3": lambda d: f"{d.microsecond // 1000:03d}",
        "a": lambda d: _DAYS[d.weekday()],
        "W": lambda d: str(_us_week_of_year(d.date())),
    }
    if code in simple:
        return simple[code](f)
    if code in "ZAB":
        raise EvaluationError(f"unsupported escape in date format string [%{code}]")
    raise EvaluationError(f"unrecognized escape in date format string [%{code}]")


def _us_week_of_year(day: date) -> int:
    """java.util.Calendar WEEK_OF_YEAR in the US locale (weeks start on Sunday)."""
    sunday_start = day.toordinal() - (day.weekday() + 1) % 7
    next_jan1 = date(day.year + 1, 1, 1).toordinal()
    if sunday_start + 6 >= next_jan1:
        return 1
    jan1 = date(day.year, 1, 1)
    first_sunday_start = jan1.toordinal() - (jan1.weekday() + 1) % 7
    return (sunday_start - first_sunday_start) // 7 + 1


def fn_uuid(length: Any = None) -> str:
    """``uuid()``: a random UUID; ``uuid(n)``: n random alphanumeric characters."""
    if length is None:
        return str(uuid_module.uuid4())
    import secrets
    import string

    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(_java_int_of(to_int(length))))


def fn_random() -> float:
    """``random()``: a uniform number in [0, 1)."""
    import random

    return random.random()


def _math(fn: Callable[[float], float]) -> Callable[[Any], float]:
    def apply(value: Any) -> float:
        x = to_double(value)
        try:
            return fn(x)
        except (ValueError, OverflowError):
            return _java_math_edge(fn, x)

    apply.__doc__ = f"``{fn.__name__}(x)`` as java.lang.Math computes it."
    return apply


def _java_math_edge(fn: Callable[[float], float], x: float) -> float:
    """Java returns NaN or infinity where Python raises (log(0), sqrt(-1), exp(1000))."""
    name = getattr(fn, "__name__", "")
    if name in ("log", "log10") and x == 0:
        return -math.inf
    if name == "exp" and x > 0:
        return math.inf
    if name == "exp10" and x > 0:
        return math.inf
    return NAN


def _exp10(x: float) -> float:
    return _java_pow(10.0, x)


_exp10.__name__ = "exp10"


def _java_pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        return math.inf if a > 0 or (float(b).is_integer() and int(b) % 2 == 0) else -math.inf
    except ValueError:
        if a == 0 and b < 0:
            return math.inf
        return NAN


def fn_pow(a: Any, b: Any) -> float:
    """``pow(a, b)`` as java.lang.Math.pow."""
    return _java_pow(to_double(a), to_double(b))


def fn_atan2(y: Any, x: Any) -> float:
    """``atan2(y, x)``."""
    return math.atan2(to_double(y), to_double(x))


def fn_abs(value: Any) -> float:
    """``abs(x)``."""
    return abs(to_double(value))


def fn_number(value: Any) -> float:
    """``number(x)``."""
    return to_number(value)


def fn_string(value: Any) -> str:
    """``string(x)``."""
    return to_string(value)


def fn_boolean(value: Any) -> bool:
    """``boolean(x)``."""
    return to_boolean(value)


def fn_not(value: Any) -> bool:
    """``not(x)``."""
    return not to_boolean(value)


def fn_contains(text: Any, part: Any) -> bool:
    """``contains(s, t)``."""
    return to_string(part) in to_string(text)


def fn_starts_with(text: Any, part: Any) -> bool:
    """``starts-with(s, t)``."""
    return to_string(text).startswith(to_string(part))


def fn_ends_with(text: Any, part: Any) -> bool:
    """``ends-with(s, t)``."""
    return to_string(text).endswith(to_string(part))


def fn_string_length(value: Any) -> float:
    """``string-length(s)`` in UTF-16 code units, as Java counts."""
    return float(len(to_string(value).encode("utf-16-le")) // 2)


def fn_date(value: Any) -> Any:
    """``date(x)``: a date from ``yyyy-mm-dd`` or a number of days."""
    return to_date(value, False)


def fn_date_time(value: Any) -> Any:
    """``date-time(x)``: a dateTime from text or a (fractional) number of days."""
    return to_date(value, True)


_MATH = {
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "log": math.log,
    "log10": math.log10,
    "exp": math.exp,
    "sqrt": math.sqrt,
    "exp10": _exp10,
}


def _spec(
    name: str, lo: int, hi: int | None, impl: Callable[..., Any] | None = None, **kw: Any
) -> FunctionSpec:
    return FunctionSpec(name, lo, hi, impl, **kw)


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in [
        # special forms (the interpreter evaluates them)
        _spec("if", 3, 3),
        _spec("coalesce", 2, 2),
        _spec("once", 1, 1),
        _spec("position", 0, 1),
        _spec("indexed-repeat", 3, 11, odd_args=True),
        _spec("current", 0, 0),
        _spec("instance", 1, 1),
        _spec("jr:choice-name", 2, 2),
        _spec("today", 0, 0, deterministic=False),
        _spec("now", 0, 0, deterministic=False),
        _spec("string-length", 0, 1),
        _spec("normalize-space", 0, 1),
        # plain functions
        _spec("true", 0, 0, lambda: True),
        _spec("false", 0, 0, lambda: False),
        _spec("boolean", 1, 1, fn_boolean),
        _spec("number", 1, 1, fn_number),
        _spec("string", 1, 1, fn_string),
        _spec("int", 1, 1, to_int),
        _spec("round", 1, 2, fn_round),
        _spec("not", 1, 1, fn_not),
        _spec("boolean-from-string", 1, 1, fn_boolean_from_string),
        _spec("date", 1, 1, fn_date),
        _spec("date-time", 1, 1, fn_date_time),
        _spec("decimal-date-time", 1, 1),  # needs the device offset: interpreter
        _spec("decimal-time", 1, 1, lambda v: to_decimal_date_time(v, False)),
        _spec("format-date", 2, 2, fn_format_date),
        _spec("format-date-time", 2, 2, fn_format_date),
        _spec("selected", 2, 2, fn_selected),
        _spec("is-selected", 2, 2, fn_selected),
        _spec("count-selected", 1, 1, fn_count_selected),
        _spec("selected-at", 2, 2, fn_selected_at),
        _spec("count", 1, 1, fn_count),
        _spec("count-non-empty", 1, 1, fn_count_non_empty),
        _spec("sum", 1, 1, fn_sum),
        _spec("max", 1, None, fn_max),
        _spec("min", 1, None, fn_min),
        _spec("concat", 0, None, fn_concat),
        _spec("join", 1, None, fn_join),
        _spec("substr", 2, 3, fn_substr),
        _spec("substring-before", 2, 2, fn_substring_before),
        _spec("substring-after", 2, 2, fn_substring_after),
        _spec("translate", 3, 3, fn_translate),
        _spec("contains", 2, 2, fn_contains),
        _spec("starts-with", 2, 2, fn_starts_with),
        _spec("ends-with", 2, 2, fn_ends_with),
        _spec("checklist", 2, None, fn_checklist),
        _spec("weighted-checklist", 2, None, fn_weighted_checklist, even_args=True),
        _spec("regex", 2, 2, fn_regex),
        _spec("depend", 1, None, lambda first, *rest: first),
        _spec("random", 0, 0, fn_random, deterministic=False),
        _spec("uuid", 0, 1, fn_uuid, deterministic=False),
        _spec("pow", 2, 2, fn_pow),
        _spec("abs", 1, 1, fn_abs),
        _spec("atan2", 2, 2, fn_atan2),
        _spec("pi", 0, 0, lambda: math.pi),
        _spec("distance", 1, None, fn_distance),
        _spec("area", 1, 1, fn_area),
        _spec("enclosed-area", 1, 1, fn_area),
        _spec("geofence", 2, 2, fn_geofence),
        _spec("digest", 2, 3, fn_digest),
        _spec("base64-decode", 1, 1, fn_base64_decode),
        *[_spec(name, 1, 1, _math(fn)) for name, fn in _MATH.items()],
    ]
}
"""Every implemented function by name. A name missing here is "not implemented"."""

SPECIAL_FORMS = frozenset(name for name, spec in FUNCTIONS.items() if spec.impl is None)
NONDETERMINISTIC = frozenset(n for n, s in FUNCTIONS.items() if not s.deterministic)


def string_length_of(value: Any) -> float:
    """``string-length`` of a value (shared with the interpreter's 0-argument form)."""
    return fn_string_length(value)
