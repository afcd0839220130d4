"""Where the Central account comes from: the environment, or a pyodk config file.

``POPSURVEY_CENTRAL_USER`` and ``POPSURVEY_CENTRAL_PASSWORD`` win; otherwise the
``[central]`` table of pyodk's ``config.toml`` (``username``, ``password``; the path named
in survey.toml's ``central.pyodk_config``, else ``$PYODK_CONFIG_FILE``, else
``~/.config/pyodk/config.toml``), as pyodk users already keep it. Messages name the file
and the missing key, never a value.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from surveys.central.client import PASSWORD_ENV, USER_ENV
from surveys.central.errors import CentralAuthError

PYODK_CONFIG_ENV = "PYODK_CONFIG_FILE"
DEFAULT_PYODK_CONFIG = Path("~/.config/pyodk/config.toml")


def pyodk_config_path(configured: Path | None = None) -> Path:
    """The pyodk config file to read: survey.toml's, ``$PYODK_CONFIG_FILE`` or pyodk's
    default."""
    if configured is not None:
        return configured.expanduser()
    return Path(os.environ.get(PYODK_CONFIG_ENV) or DEFAULT_PYODK_CONFIG).expanduser()


def central_credentials(pyodk_config: Path | None = None) -> tuple[str, str]:
    """``(username, password)`` from the environment or the pyodk config file."""
    user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
    if user and password:
        return user, password
    path = pyodk_config_path(pyodk_config)
    if not path.is_file():
        raise CentralAuthError(
            f"no Central account: set {USER_ENV} and {PASSWORD_ENV}, or write {path}"
            " ([central] username, password) as for pyodk"
        )
    try:
        section = tomllib.loads(path.read_text(encoding="utf-8")).get("central") or {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise CentralAuthError(
            f"{path}: cannot read the pyodk config ({type(err).__name__})"
        ) from None
    missing = [k for k in ("username", "password") if not section.get(k)]
    if missing:
        raise CentralAuthError(f"{path}: [central] {', '.join(missing)} missing")
    return user or str(section["username"]), password or str(section["password"])
