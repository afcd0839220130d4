"""The issue codes of submission validation (the form logic's X101-X199 are in forms.logic).

| code | severity | what |
|------|----------|------|
| V101 | error    | wrong JSON type (text in a number, a number in a date, ...) |
| V102 | error    | select_one code not in the choice list |
| V103 | error    | text does not have the required shape (select_multiple codes, date/time text) |
| V104 | error    | not a real date, dateTime (with its UTC offset) or time |
| V105 | error    | unconditionally required answer missing (absent or null) |
| V106 | warning  | a field the form (this version) does not define |
| V107 | error    | geopoint/geotrace/geoshape not valid GeoJSON (type, coordinates, ranges) |
| V201 | error    | the stored JSON is broken (cannot be parsed, or not an object) |
| V202 | error    | invalid text encoding (a lone UTF-16 surrogate: bytes lost in transit) |
| V203 | warning  | the submission's form version is not stored: validated against the nearest one |
"""

from __future__ import annotations

from forms.issues import Severity

SEVERITY = {
    "V101": Severity.ERROR,
    "V102": Severity.ERROR,
    "V103": Severity.ERROR,
    "V104": Severity.ERROR,
    "V105": Severity.ERROR,
    "V106": Severity.WARNING,
    "V107": Severity.ERROR,
    "V201": Severity.ERROR,
    "V202": Severity.ERROR,
    "V203": Severity.WARNING,
}
"""Severity of each validation code."""

MESSAGES = {
    "V101": "wrong type",
    "V102": "code not in the choice list",
    "V103": "text does not match the required pattern",
    "V104": "not a valid date/time",
    "V105": "required answer missing",
    "V106": "field not defined by the form",
    "V107": "invalid GeoJSON",
}
"""Short texts of the schema codes (messages add the details)."""
