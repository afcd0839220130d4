"""Let openpyxl load without importing numpy, keeping its numpy support whole.

Every import of pyxform (4.5) loads openpyxl at module level (``pyxform/__init__`` ->
``builder`` -> ``file_utils`` -> ``utils`` -> ``xls2json_backends`` -> ``openpyxl``), and
openpyxl's ``openpyxl/compat/numbers.py`` imports numpy, when it is installed, only to add
numpy's scalar types to ``NUMERIC_TYPES`` (the types it writes as numbers). So ``popsurvey
form check`` on a ten-row form paid for numpy (about half of openpyxl's import time)
although nothing on that path touches an array.

:func:`install` puts a finder on ``sys.meta_path`` for that one module. When
``openpyxl.compat.numbers`` is imported while numpy is not loaded yet, the finder runs
openpyxl's own module code with ``import numpy`` refused, then appends
:class:`NumpyScalar` to ``NUMERIC_TYPES``: a class whose ``isinstance`` check asks numpy,
once numpy is loaded, whether the value is one of its integer, floating or bool scalars
(the same set openpyxl lists: every type it names is a subclass of ``numpy.integer`` or
``numpy.floating``, plus ``numpy.bool_``). openpyxl copies ``NUMERIC_TYPES`` into
``openpyxl.compat``, ``compat.strings``, ``cell.cell`` and ``cell.rich_text`` at import time;
they all get the tuple with :class:`NumpyScalar` in it, so numpy values imported later are
written as numbers everywhere, exactly as when numpy was loaded first
(``tests/forms/test_openpyxl_numbers.py`` checks the written cells against a process that
imported numpy first). When numpy is already loaded the finder steps aside and openpyxl
loads as usual.
"""

from __future__ import annotations

import abc
import builtins
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import Any

TARGET = "openpyxl.compat.numbers"


class NumpyScalar(abc.ABC):  # noqa: B024 (an ABC for its isinstance cache, not to subclass)
    """``isinstance(x, NumpyScalar)``: x is a numpy integer, floating or bool scalar.

    An ABC, so that ``isinstance`` answers from the ABC's per-type cache in C: openpyxl
    checks ``NUMERIC_TYPES`` for every string it writes, and a Python-level check there
    costs about 6 % of writing a workbook. A type is looked at once, when first met: no
    numpy type can exist before numpy is loaded, so a negative answer given before then
    (for ``str`` and the like) stays right.
    """

    @classmethod
    def __subclasshook__(cls, subclass: type) -> bool:
        numpy = sys.modules.get("numpy")
        if numpy is None:
            return False
        try:
            return issubclass(subclass, (numpy.integer, numpy.floating, numpy.bool_))
        except AttributeError:  # numpy half-way through its own import
            return False


def _refuse_numpy(name: str, *args: Any, **kwargs: Any) -> ModuleType:
    if name == "numpy" or name.startswith("numpy."):
        raise ModuleNotFoundError("numpy is loaded lazily by popsurvey", name=name)
    return builtins.__import__(name, *args, **kwargs)


class _Loader(importlib.abc.Loader):
    def __init__(self, original: importlib.abc.Loader) -> None:
        self.original = original

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        code = self.original.get_code(module.__name__)  # type: ignore[attr-defined]
        namespace = module.__dict__
        namespace["__builtins__"] = {**builtins.__dict__, "__import__": _refuse_numpy}
        try:
            exec(code, namespace)
        finally:
            namespace["__builtins__"] = builtins
        namespace["NUMERIC_TYPES"] = (*namespace["NUMERIC_TYPES"], NumpyScalar)
        namespace["NUMPY"] = importlib.util.find_spec("numpy") is not None


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != TARGET or "numpy" in sys.modules:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not hasattr(spec.loader, "get_code"):
            return spec  # an unusual install: let openpyxl load the usual way
        spec.loader = _Loader(spec.loader)
        return spec


def install() -> None:
    """Put the finder on ``sys.meta_path`` once (a no-op once openpyxl is loaded)."""
    if TARGET in sys.modules or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())
