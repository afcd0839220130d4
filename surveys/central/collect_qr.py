"""ODK Collect configuration QR codes for app users, and a printable sheet per team.

Collect scans the JSON settings ``{"general": {...}, "admin": {}, "project": {...}}``,
zlib-compressed and base64-encoded, exactly as Central's web UI builds them for an app user
("managed" code): ``general.server_url`` is ``{base}/v1/key/{token}/projects/{id}``, forms
follow the server (``form_update_mode: match_exactly``) and finished forms are sent at once
(``autosend: wifi_and_cellular``). popsurvey also sets ``metadata_username`` to the
enumerator code, which the bundled questionnaires read as ``username``
(forms/questionnaires/CONVENTIONS.md).

The codes hold the app-user key: whoever has one can submit as that enumerator. Files are
written with owner-only permissions (0600, folder 0700) and their content is never printed.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forms.files import write_atomic


@dataclass(frozen=True)
class Badge:
    """One enumerator's configuration: code, full name, team and the app-user key."""

    code: str
    name: str
    team: str
    token: str


def collect_server_url(base_url: str, token: str, project_id: int) -> str:
    """The server URL Collect uses as this app user: its key is part of the path."""
    return f"{base_url.rstrip('/')}/v1/key/{token}/projects/{int(project_id)}"


def collect_settings(
    base_url: str, token: str, project_id: int, project_name: str, username: str
) -> dict[str, Any]:
    """Collect's settings for an app user, as Central's UI builds them (plus the
    enumerator code as ``metadata_username``)."""
    return {
        "general": {
            "server_url": collect_server_url(base_url, token, project_id),
            "form_update_mode": "match_exactly",
            "autosend": "wifi_and_cellular",
            "metadata_username": username,
        },
        "admin": {},
        "project": {"name": project_name},
    }


def encode_settings(settings: Mapping[str, Any]) -> str:
    """The text Collect scans: JSON, zlib-compressed, base64-encoded."""
    text = json.dumps(settings, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(zlib.compress(text.encode("utf-8"))).decode("ascii")


def decode_settings(payload: str) -> dict[str, Any]:
    """The settings in a scanned code (the inverse of :func:`encode_settings`)."""
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))


def qr_png(payload: str, scale: int = 6) -> bytes:
    """A PNG of the QR code of ``payload`` (error correction L, as Central's UI)."""
    import segno

    out = io.BytesIO()
    segno.make_qr(payload, error="l").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def write_secret(path: Path, content: bytes) -> bool:
    """Write ``content`` owner-only (0600) unless the file already holds it; the folder is
    made owner-only (0700). Returns whether the file was (re)written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    if path.is_file() and path.read_bytes() == content:
        os.chmod(path, 0o600)
        return False
    old = os.umask(0o077)
    try:
        write_atomic(path, content)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    return True


def write_badges(
    folder: Path,
    badges: Sequence[Badge],
    *,
    base_url: str,
    project_id: int,
    project_name: str,
    survey_title: str,
) -> list[Path]:
    """Write ``qr/<code>.png`` per enumerator, ``sheets/<team>.html`` per team and
    ``tokens.csv`` (enumerator,token for ``simulate --central``), all owner-only.
    Returns the files written or rewritten (unchanged files are left as they are)."""
    written = []
    pngs: dict[str, bytes] = {}
    for badge in badges:
        settings = collect_settings(base_url, badge.token, project_id, project_name, badge.code)
        pngs[badge.code] = qr_png(encode_settings(settings))
        target = folder / "qr" / f"{_file_name(badge.code)}.png"
        if write_secret(target, pngs[badge.code]):
            written.append(target)
    for team, members in _by_team(badges).items():
        sheet = team_sheet(team, members, pngs, survey_title, project_name)
        target = folder / "sheets" / f"{_file_name(team or 'no-team')}.html"
        if write_secret(target, sheet.encode("utf-8")):
            written.append(target)
    lines = "enumerator,token\n" + "".join(f"{b.code},{b.token}\n" for b in badges)
    if write_secret(folder / "tokens.csv", lines.encode()):
        written.append(folder / "tokens.csv")
    return written


def team_sheet(
    team: str,
    members: Iterable[Badge],
    pngs: Mapping[str, bytes],
    survey_title: str,
    project_name: str,
) -> str:
    """A printable HTML page: one card per enumerator with name, code and QR code."""
    cards = []
    for badge in members:
        data = base64.b64encode(pngs[badge.code]).decode("ascii")
        cards.append(
            '<div class="card">'
            f'<img alt="QR code for {html.escape(badge.code)}" src="data:image/png;base64,{data}">'
            f'<p class="name">{html.escape(badge.name)}</p>'
            f'<p class="code">{html.escape(badge.code)}</p></div>'
        )
    title = f"{survey_title}: team {team or '(none)'}"
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:1cm}"
        ".card{display:inline-block;width:6.5cm;margin:.3cm;padding:.3cm;border:1px dashed #999;"
        "text-align:center;page-break-inside:avoid}.card img{width:6cm;height:6cm}"
        ".name{font-size:14pt;margin:.1cm}.code{font-family:monospace;margin:.1cm}"
        "@media print{.note{display:none}}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<p>ODK Collect: Add project, Configure with QR code. Project: "
        f"{html.escape(project_name)}.</p>"
        '<p class="note">Each code lets its holder submit as that enumerator: hand it to '
        "them in person, and shred spare copies.</p>" + "".join(cards) + "</body></html>\n"
    )


def _by_team(badges: Iterable[Badge]) -> dict[str, list[Badge]]:
    teams: dict[str, list[Badge]] = {}
    for badge in badges:
        teams.setdefault(badge.team, []).append(badge)
    return dict(sorted(teams.items()))


def _file_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
