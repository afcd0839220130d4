"""Offline import into the store, for users without API access to Central.

- :func:`import_csv_zip`: Central's CSV export zip (main and repeat CSVs, KEY/PARENT_KEY).
- :func:`import_xml_dir`: a directory of submission XML files with audit.csv beside.
- :func:`import_json_pages`: OData-shaped JSON pages (``pages/<formId>/page-0001.json``)
  with ``audits/<instanceID>/audit.csv``, as the fieldwork simulator writes them.

Each import is one transaction: a bad file leaves the store as it was.
"""

from surveys.importers.common import ImportResult
from surveys.importers.csv_zip import import_csv_zip
from surveys.importers.errors import ImportFormatError
from surveys.importers.json_pages import check_pages, forms_in, import_json_pages
from surveys.importers.xml_dir import import_xml_dir, parse_submission_xml

__all__ = [
    "ImportFormatError",
    "ImportResult",
    "check_pages",
    "forms_in",
    "import_csv_zip",
    "import_json_pages",
    "import_xml_dir",
    "parse_submission_xml",
]
