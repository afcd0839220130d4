"""popsurvey.forms: XLSForm questionnaires as one immutable FormModel.

The public API:

- :func:`read_form` / :func:`read_markdown`: an XLSForm file or markdown tables -> FormModel.
- :class:`FormModel`, :class:`Question`, :class:`ChoiceList`, :class:`Choice`.
- :class:`Issue` and :class:`Severity`: how every stage reports a problem.
- :class:`FormsError`, :class:`XLSFormError`, :class:`ExpressionError`.
"""

from forms import openpyxl_numbers
from forms.errors import ExpressionError, FormsError, XLSFormError
from forms.issues import Issue, Severity
from forms.model import Choice, ChoiceList, FormModel, Question, language_code
from forms.reader import read_form, read_markdown

openpyxl_numbers.install()  # pyxform loads openpyxl; openpyxl need not load numpy for it

__all__ = [
    "Choice",
    "ChoiceList",
    "ExpressionError",
    "FormModel",
    "FormsError",
    "Issue",
    "Question",
    "Severity",
    "XLSFormError",
    "language_code",
    "read_form",
    "read_markdown",
]
