"""The self-contained HTML report: inline CSS, inline SVG charts, a little inline script for
the drill-down, the drill-down's data as inline JSON. Nothing is fetched: the page opens from
the file with no server and no network.
"""

from __future__ import annotations

import json
import math
from html import escape

import numpy as np
import pandas as pd

from validation.report import svg
from validation.report.compute import Report, reasons_text
from validation.report.gpsmap import gps_map, worst_psus
from validation.report.heaping import srb_limits
from validation.report.i18n import check_label, check_language, indicator_label, text

FLAG_ROW_BUDGET = 12_000
"""Flag rows embedded for the drill-down in all (each enumerator gets a share, 5 to 200);
the workbook has every flag."""
MESSAGE_CHARS = 120
HISTOGRAM_BINS = 24
RISKIEST_BOXES = 30
"""Enumerators whose duration distribution is drawn (the riskiest first)."""

STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:0;
color:#263238;background:#fafafa}
header{background:#263238;color:#fff;padding:14px 24px}header h1{margin:0;font-size:22px}
main{padding:8px 24px 40px}section{background:#fff;border:1px solid #e0e0e0;border-radius:6px;
margin:16px 0;padding:12px 16px}h2{font-size:17px;margin:4px 0 10px}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{background:#eceff1;border-radius:6px;
padding:8px 14px;min-width:110px}.card b{display:block;font-size:20px}
table{border-collapse:collapse;font-size:12px}th,td{border-bottom:1px solid #eceff1;
padding:3px 6px;text-align:left;vertical-align:top}th{background:#f5f5f5;position:sticky;top:0}
td.n{text-align:right}.scroll{max-height:420px;overflow:auto}.grid{display:flex;flex-wrap:wrap;
gap:12px}.note{color:#607d8b;font-size:12px}.sev-error{color:#c62828;font-weight:bold}
.sev-warning{color:#ef6c00}tr.pick{cursor:pointer}tr.pick:hover{background:#e3f2fd}
select{font-size:14px;padding:2px}
"""

SCRIPT = """
(function(){
var D=JSON.parse(document.getElementById('report-data').textContent);
var sel=document.getElementById('pick'),out=document.getElementById('detail');
function esc(s){return String(s==null?'':s).replace(/[&<>"]/g,function(c){
return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c];});}
function num(v,d){return (v==null||isNaN(v))?'\\u2013':(+v).toFixed(d==null?2:d);}
function mark(id,v){var s=document.getElementById('ind-'+id);if(!s)return;
var old=s.querySelector('.pickmark');if(old)old.remove();if(v==null||isNaN(v))return;
var lo=+s.dataset.lo,hi=+s.dataset.hi,l=+s.dataset.left,w=+s.dataset.plot;
var x=l+Math.max(0,Math.min(1,(v-lo)/((hi-lo)||1)))*w;
var ln=document.createElementNS('http://www.w3.org/2000/svg','line');
ln.setAttribute('class','pickmark');ln.setAttribute('x1',x);ln.setAttribute('x2',x);
ln.setAttribute('y1',14);ln.setAttribute('y2',122);ln.setAttribute('stroke','#d32f2f');
ln.setAttribute('stroke-width','2.5');s.appendChild(ln);}
function show(id){var e=D.enumerators[id];if(!e){out.innerHTML='';return;}
sel.value=id;var L=D.labels,h='<h3>'+esc(id)+' '+esc(e.name)+' \\u00b7 '+esc(L.team)+' '+
esc(e.team)+' \\u00b7 '+esc(L.risk)+' '+num(e.risk,1)+'</h3><p>'+esc(e.reasons)+'</p>';
h+='<p>'+esc(L.review)+': '+Object.keys(e.review).map(function(k){return esc(k)+' '+e.review[k];
}).join(', ')+'</p><table><tr><th>'+esc(L.indicator)+'</th><th>'+esc(L.value)+'</th><th>'+
esc(L.median)+'</th></tr>';
D.indicators.forEach(function(k,i){h+='<tr><td>'+esc(D.indicator_labels[i])+'</td><td class=n>'+
num(e.ind[i])+'</td><td class=n>'+num(D.medians[i])+'</td></tr>';mark(k,e.ind[i]);});
h+='</table><h4>'+esc(L.flagged)+' ('+e.n_flags+')</h4>';
if(e.flags.length<e.n_flags){h+='<p class=note>'+esc(L.shown_first.replace('{n}',
e.flags.length))+'</p>';}
h+='<div class=scroll><table id="flag-table"><tr>'+L.columns.map(function(c){return '<th>'+
esc(c)+'</th>';}).join('')+'</tr>';
e.flags.forEach(function(f){h+='<tr>'+f.map(function(v,i){return '<td class="'+(i==5?'sev-'+
esc(v):'')+'">'+esc(v)+'</td>';}).join('')+'</tr>';});
out.innerHTML=h+'</table></div>';}
sel.addEventListener('change',function(){location.hash='e='+encodeURIComponent(sel.value);});
function fromHash(){var m=location.hash.match(/^#e=(.*)$/);if(m)show(decodeURIComponent(m[1]));}
window.addEventListener('hashchange',fromHash);
document.querySelectorAll('tr.pick').forEach(function(r){r.addEventListener('click',function(){
location.hash='e='+encodeURIComponent(r.dataset.e);
document.getElementById('drilldown').scrollIntoView();});});
if(location.hash){fromHash();}else if(sel.options.length){show(sel.options[0].value);}
})();
"""


def render_html(report: Report, language: str = "zh") -> bytes:
    """The report as one self-contained HTML page in ``language`` (``zh`` or ``en``)."""
    check_language(language)
    t = lambda key, **v: text(key, language, **v)  # noqa: E731
    inputs = report.inputs
    generated = inputs.generated_at.strftime("%Y-%m-%d %H:%M") if inputs.generated_at else ""
    since = inputs.since.isoformat() if inputs.since else t("all_dates")
    sections = [
        _overview(report, t),
        _progress(report, t),
        _ranking(report, t, language),
        _indicators(report, t, language),
        _durations(report, t),
        _heatmap(report, t),
        _map(report, t),
        _srb_and_heaping(report, t),
        _checks(report, t, language),
        _drilldown(report, t),
    ]
    data = json.dumps(
        _drilldown_data(report, t, language),
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,  # JSON.parse rejects NaN: fail here rather than in the browser
    )
    data = data.replace("</", "<\\/")
    page = (
        f'<!DOCTYPE html><html lang="{"zh-CN" if language == "zh" else "en"}"><head>'
        f'<meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{escape(inputs.title)} · {t('report')}</title><style>{STYLE}</style></head>"
        f"<body><header><h1>{escape(inputs.title)} · {t('report')}</h1>"
        f"<div>{t('generated')} {generated} · {t('since')}: {since}</div></header><main>"
        + "".join(sections)
        + f'</main><script type="application/json" id="report-data">{data}</script>'
        f"<script>{SCRIPT}</script></body></html>"
    )
    return page.encode("utf-8")


def _section(ident: str, title: str, body: str) -> str:
    return f'<section id="{ident}"><h2>{escape(title)}</h2>{body}</section>'


def _overview(report: Report, t) -> str:
    totals = report.totals
    pct = 100 * totals["complete"] / totals["units"] if totals["units"] else math.nan
    cards = [
        (t("interviews"), svg.fmt(totals["interviews"])),
        (t("enumerators"), svg.fmt(totals["enumerators"])),
        (t("flagged_interviews"), svg.fmt(totals["flagged_interviews"])),
        (t("flags"), svg.fmt(totals["flags"])),
        (t("units"), svg.fmt(totals["units"])),
        (t("pct_complete"), svg.fmt(pct)),
    ]
    body = "".join(f'<div class="card">{escape(k)}<b>{escape(v)}</b></div>' for k, v in cards)
    return _section("overview", t("overview"), f'<div class="cards">{body}</div>')


def _progress(report: Report, t) -> str:
    county = report.progress_county
    if county.empty:
        return _section("progress", t("progress"), f"<p>{t('no_data')}</p>")
    parts = {s: list(county[s]) for s in ("complete", "incomplete", "pending")}
    names = {s: t(s) for s in parts}
    bars = svg.stacked_bars(
        list(county["county"].astype(str)), parts, svg.PALETTE, names, t("by_county")
    )
    psu = report.progress_psu
    items = [
        (
            str(r.psu),
            float(r.pct),
            f"{r.county} / {r.psu}: {r.complete}/{r.total} ({svg.fmt(r.pct)}%)",
        )
        for r in psu.sort_values(["county", "psu"]).itertuples()
    ]
    table = _table(
        county,
        ["county", "complete", "incomplete", "pending", "total", "pct"],
        [t("county"), t("complete"), t("incomplete"), t("pending"), t("total"), t("pct_complete")],
    )
    body = (
        f"<h3>{t('by_county')}</h3>{bars}{table}<h3>{t('by_psu')}</h3>"
        f"{svg.tiles(items, t('by_psu'))}"
    )
    return _section("progress", t("progress"), body)


def _ranking(report: Report, t, language: str) -> str:
    rows = []
    for r in report.enumerators.itertuples():
        reasons = _reasons(report, r.enumerator, language)
        rows.append(
            f'<tr class="pick" data-e="{escape(str(r.enumerator))}"><td class=n>{r.rank}</td>'
            f"<td>{escape(str(r.enumerator))}</td><td>{escape(_text(r.name))}</td>"
            f"<td>{escape(_text(r.team))}</td><td class=n><b>{svg.fmt(r.risk)}</b></td>"
            f"<td class=n>{r.interviews}</td><td class=n>{r.flagged}</td>"
            f"<td class=n>{r.errors}</td><td class=n>{r.approved}</td>"
            f"<td class=n>{r.hasIssues}</td>"
            f"<td class=n>{r.rejected}</td><td>{escape(reasons)}</td></tr>"
        )
    heads = [
        "rank",
        "enumerator",
        "name",
        "team",
        "risk",
        "interviews",
        "flagged",
        "errors",
        "approved",
        "hasIssues",
        "rejected",
        "reasons",
    ]
    head = "".join(f"<th>{escape(t(h))}</th>" for h in heads)
    table = f'<table id="ranking-table"><tr>{head}</tr>{"".join(rows)}</table>'
    body = f'<div class="scroll">{table}</div>'
    return _section("ranking", t("risk_ranking"), body)


def _indicators(report: Report, t, language: str) -> str:
    charts = []
    for name in _indicator_names(report):
        values = report.indicators[name].dropna().to_numpy(dtype=float)
        if len(values) == 0:
            continue
        counts, edges = _bins(values)
        median = float(np.median(values))
        charts.append(
            svg.histogram(
                counts,
                edges,
                indicator_label(name, language),
                t("enumerators"),
                markers=[(median, "median", "#37474f")],
                chart_id=f"ind-{name}",
            )
        )
    body = f'<p class="note">{t("indicators_note")}</p><div class="grid">{"".join(charts)}</div>'
    return _section("indicators", t("indicators"), body)


def _durations(report: Report, t) -> str:
    minutes = report.inputs.interviews["duration_min"].dropna()
    minutes = minutes[minutes >= 0]
    if minutes.empty:
        return _section("durations", t("durations"), f"<p>{t('no_data')}</p>")
    top = float(np.percentile(minutes, 99)) or 1.0
    counts, edges = np.histogram(minutes.clip(upper=top), bins=40, range=(0, top))
    low = report.duration_fences[0]
    chart = svg.histogram(
        counts,
        edges,
        t("durations"),
        t("minutes"),
        markers=[(low, t("short_fence"), svg.PALETTE["alert"])],
        width=720,
        height=200,
    )
    return _section("durations", t("durations"), chart + _duration_boxes(report, t, top, low))


def _duration_boxes(report: Report, t, top: float, low: float) -> str:
    """Duration boxes of the whole team and of the riskiest enumerators."""
    interviews = report.inputs.interviews.dropna(subset=["duration_min"])
    shown = list(report.enumerators["enumerator"].head(RISKIEST_BOXES))
    quantiles = [0.05, 0.25, 0.5, 0.75, 0.95]
    rows = [(t("all_interviews"), interviews["duration_min"].quantile(quantiles).tolist(),
             len(interviews))]  # fmt: skip
    part = interviews[interviews["enumerator"].isin(shown)]
    if not part.empty:
        table = part.groupby("enumerator")["duration_min"].quantile(quantiles).unstack()
        sizes = part.groupby("enumerator").size()
        rows += [(e, table.loc[e].tolist(), int(sizes[e])) for e in shown if e in table.index]
    title = t("durations_by_enumerator", n=len(rows) - 1)
    return svg.box_rows(rows, title, t("minutes"), top, marker=(low, t("short_fence")))


def _heatmap(report: Report, t) -> str:
    heat = report.heat
    if heat.shape[1] == 0:
        return _section("heatmap", t("heatmap"), f"<p>{t('no_data')}</p>")
    days = [d.strftime("%m-%d") for d in heat.columns]
    chart = svg.heatmap(
        heat.to_numpy().tolist(), [f"{h:02d}" for h in heat.index], days, t("heatmap")
    )
    return _section("heatmap", t("heatmap"), chart)


def _map(report: Report, t) -> str:
    far_km = report.thresholds["gps_km"]
    interviews = report.inputs.interviews
    with_gps = int(interviews[["lat", "lon"]].notna().all(axis=1).sum())
    note_template = t("gps_note", km=svg.fmt(far_km), shown="{shown}", total="{total}")
    chart, shown, _ = gps_map(interviews, far_km, t("gps_map"), "")
    if not chart:
        return _section("map", t("gps_map"), f"<p>{t('no_gps')}</p>")
    note = note_template.format(shown=shown, total=with_gps)
    local = []
    for psu in worst_psus(interviews, far_km):
        subset = interviews[interviews["psu"].astype(str) == psu]
        share = 100 * float((subset["gps_km"] > far_km).mean())
        title = f"{t('psu')} {psu}: {svg.fmt(share)}% > {svg.fmt(far_km)} km"
        local.append(gps_map(subset, far_km, title, title, width=350, height=280, links=True)[0])
    worst = f"<h3>{t('worst_psus')}</h3><div class=grid>{''.join(local)}</div>" if local else ""
    return _section("map", t("gps_map"), f'<p class="note">{escape(note)}</p>{chart}{worst}')


def _srb_and_heaping(report: Report, t) -> str:
    srb = report.srb
    parts = []
    per = report.indicators[["srb", "births"]].dropna()
    per = per[per["births"] > 0]
    if srb["males"] + srb["females"] > 0:
        low_t, high_t = report.thresholds["srb_low"], report.thresholds["srb_high"]
        top = max(per["births"].max() if not per.empty else 1, 5)
        xs = np.linspace(3, top, 60)
        lo, hi = srb_limits(xs, srb["srb"])
        own_lo, own_hi = srb_limits(per["births"].to_numpy(dtype=float), srb["srb"])
        outside = (per["srb"] < own_lo) | (per["srb"] > own_hi)
        points = [
            (
                float(r.births),
                float(r.srb),
                svg.PALETTE["alert"] if out else "#1565c0",
                f"{r.Index}: SRB {svg.fmt(r.srb)} ({int(r.births)} {t('births')})",
            )
            for r, out in zip(per.itertuples(), outside, strict=True)
            if math.isfinite(r.srb)
        ]
        curves = [
            (list(zip(xs, lo, strict=True)), "#78909c", True),
            (list(zip(xs, hi, strict=True)), "#78909c", True),
            ([(1, srb["srb"]), (top, srb["srb"])], "#37474f", False),
        ]
        chart = svg.scatter(
            points, curves, t("srb"), t("births"), "SRB", (0, float(top)), (0.0, 300.0)
        )
        chart += (
            f'<p class="note">{escape(t("srb_band", low=svg.fmt(low_t), high=svg.fmt(high_t)))}</p>'
        )
        note = t(
            "srb_note",
            srb=svg.fmt(srb["srb"]),
            low=svg.fmt(srb["low"]),
            high=svg.fmt(srb["high"]),
            m=srb["males"],
            f=srb["females"],
        )
        parts.append(f"<h3>{t('srb')}</h3><p class=note>{escape(note)}</p>{chart}")
    ages = report.ages
    if ages["n"]:
        counts = ages["counts"]
        ages_axis = list(range(int(counts.index.min()), int(counts.index.max()) + 1))
        values = [int(counts.get(a, 0)) for a in ages_axis]
        colors = [svg.PALETTE["alert"] if a % 5 == 0 else svg.PALETTE["bar"] for a in ages_axis]
        by_age = svg.vertical_bars(
            [str(a) for a in ages_axis], values, t("age"), colors, width=720, label_every=5
        )
        digits = svg.vertical_bars(
            [str(d) for d in range(10)],
            [v * 100 for v in ages["last_digit"]],
            t("last_digit") + " %",
            width=360,
        )
        note = t(
            "heaping_note",
            whipple=svg.fmt(ages["whipple"]),
            myers=svg.fmt(ages["myers"]),
            n=ages["n"],
        )
        parts.append(f"<h3>{t('heaping')}</h3><p class=note>{escape(note)}</p>{by_age}{digits}")
    body = "".join(parts) or f"<p>{t('no_data')}</p>"
    return _section("demography", f"{t('srb')} · {t('heaping')}", body)


def _checks(report: Report, t, language: str) -> str:
    checks = report.checks.copy()
    if checks.empty:
        return _section("checks", t("checks"), f"<p>{t('none')}</p>")
    checks["label"] = [
        check_label(c, language, report.inputs.check_labels) for c in checks["check"]
    ]
    checks["severity"] = [t(s) for s in checks["severity"]]
    table = _table(
        checks,
        ["check", "label", "severity", "flags", "interviews", "enumerators"],
        [t("check"), t("message"), t("severity"), t("flags"), t("interviews"), t("enumerators")],
    )
    return _section("checks", t("checks"), table)


def _drilldown(report: Report, t) -> str:
    options = "".join(
        f'<option value="{escape(str(e))}">{r} · {escape(str(e))} {escape(_text(n))} '
        f"({svg.fmt(k)})</option>"
        for r, e, n, k in report.enumerators[["rank", "enumerator", "name", "risk"]].itertuples(
            index=False
        )
    )
    body = (
        f'<label>{t("choose")} <select id="pick">{options}</select></label><div id="detail"></div>'
    )
    return _section("drilldown", t("drilldown"), body)


def _drilldown_data(report: Report, t, language: str) -> dict:
    names = _indicator_names(report)
    indicators = report.indicators.reindex(columns=names)
    per_enumerator = max(5, min(200, FLAG_ROW_BUDGET // max(len(report.enumerators), 1)))
    rows_of, counts = _flag_rows(report, language, per_enumerator)
    review = report.enumerators.set_index("enumerator")[["approved", "hasIssues", "rejected"]]
    enumerators = {}
    for r in report.enumerators.itertuples():
        values = indicators.loc[r.enumerator] if r.enumerator in indicators.index else None
        enumerators[str(r.enumerator)] = {
            "name": _text(r.name),
            "team": _text(r.team),
            "risk": float(r.risk),
            "reasons": _reasons(report, r.enumerator, language),
            "ind": [_json_number(v) for v in values] if values is not None else [None] * len(names),
            "review": {t(k): int(v) for k, v in review.loc[r.enumerator].items()},
            "flags": rows_of.get(r.enumerator, []),
            "n_flags": int(counts.get(r.enumerator, 0)),
        }
    medians = [_json_number(indicators[n].median()) for n in names]
    return {
        "indicators": names,
        "indicator_labels": [indicator_label(n, language) for n in names],
        "medians": medians,
        "enumerators": enumerators,
        "labels": {
            "team": t("team"),
            "risk": t("risk"),
            "review": t("review_state"),
            "indicator": t("indicators"),
            "value": t("value"),
            "median": t("median"),
            "flagged": t("flagged_list"),
            "shown_first": t("shown_first", n="{n}"),
            "columns": [
                t("instance"),
                t("start"),
                t("duration"),
                t("distance"),
                t("check"),
                t("severity"),
                t("value"),
                t("message"),
                t("review_state"),
            ],
        },
    }


def _flag_rows(
    report: Report, language: str, per_enumerator: int
) -> tuple[dict[str, list[list[str]]], pd.Series]:
    """Each enumerator's first ``per_enumerator`` flags (errors first) as table rows, and
    how many flags each has."""
    flags = report.inputs.flags
    counts = flags.groupby("enumerator").size()
    if flags.empty:
        return {}, counts
    rank = flags["severity"].map({"error": 0, "warning": 1, "info": 2}).astype(float)
    flags = flags.assign(_rank=rank).sort_values(["enumerator", "_rank", "check"], kind="stable")
    head = flags[flags.groupby("enumerator").cumcount() < per_enumerator]
    columns = ["instance_id", "start", "duration_min", "gps_km", "review_state"]
    info = report.inputs.interviews[columns].drop_duplicates("instance_id")
    head = head.merge(info, on="instance_id", how="left")
    labels = {
        c: check_label(c, language, report.inputs.check_labels) for c in head["check"].unique()
    }
    table = pd.DataFrame(
        {
            "enumerator": head["enumerator"].astype(str),
            "instance": head["instance_id"].fillna("").astype(str),
            "start": head["start"].dt.strftime("%Y-%m-%d %H:%M").fillna(""),
            "duration": _numbers(head["duration_min"], 1),
            "km": _numbers(head["gps_km"], 2),
            "check": head["check"].map(labels),
            "severity": head["severity"],
            "value": _numbers(head["value"], 2),
            "message": head["message"].astype(str).str.slice(0, MESSAGE_CHARS),
            "review": head["review_state"].astype("object").fillna("").astype(str),
        }
    )
    rows_of: dict[str, list[list[str]]] = {}
    for enumerator, *row in table.itertuples(index=False, name=None):
        rows_of.setdefault(enumerator, []).append(row)
    return rows_of, counts


def _numbers(values: pd.Series, digits: int) -> list[str]:
    """Numbers as short texts, missing ones as empty texts."""
    return [svg.fmt(v, digits) if not pd.isna(v) else "" for v in values.astype(float)]


def _indicator_names(report: Report) -> list[str]:
    return [
        c for c in report.indicators.columns if c != "births" and report.indicators[c].notna().any()
    ]


def _reasons(report: Report, enumerator: str, language: str) -> str:
    return reasons_text(report, enumerator, language)


def _bins(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = float(np.min(values)), float(np.max(values))
    if hi <= lo:
        hi = lo + 1.0
    return np.histogram(values, bins=HISTOGRAM_BINS, range=(lo, hi))


def _table(frame: pd.DataFrame, columns: list[str], heads: list[str]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in heads)
    rows = []
    for values in frame[columns].itertuples(index=False):
        cells = "".join(
            f'<td class="n">{svg.fmt(v)}</td>'
            if isinstance(v, (int, float, np.number))
            else f"<td>{escape(_text(v))}</td>"
            for v in values
        )
        rows.append(f"<tr>{cells}</tr>")
    return f'<div class="scroll"><table>{head and f"<tr>{head}</tr>"}{"".join(rows)}</table></div>'


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _when(value: object) -> str:
    return (
        value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, pd.Timestamp) and not pd.isna(value)
        else ""
    )


def _json_number(value: object) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, 4) if math.isfinite(number) else None
