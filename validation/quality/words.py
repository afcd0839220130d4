"""Indicator names in words (English and Chinese) and how their values are shown."""

from __future__ import annotations

import math

LABELS: dict[str, tuple[str, str, str]] = {
    # name: (English, Chinese, format: pct | min | sec | num | ratio)
    "duplicate_unit_share": (
        "interviews of an already interviewed unit",
        "重复访问同一住户",
        "pct",
    ),
    "not_in_sample_share": ("submissions outside the sample", "样本外的提交", "pct"),
    "near_duplicate_share": ("near-duplicate interviews", "近似重复问卷", "pct"),
    "missing_rate": ("missing answers (applicable questions)", "缺失率（适用题目）", "pct"),
    "dont_know_rate": ("don't know answers", "“不知道”比例", "pct"),
    "refusal_rate": ("refusals", "拒答比例", "pct"),
    "other_rate": ("'other' answers", "“其他”比例", "pct"),
    "outlier_rate": ("outlying numbers", "异常数值比例", "pct"),
    "median_duration": ("median duration", "访问时长中位数", "min"),
    "short_interview_share": ("very short interviews", "过短访问", "pct"),
    "median_question_seconds": ("median time per question", "每题用时中位数", "sec"),
    "answer_change_rate": ("answers changed", "修改答案比例", "pct"),
    "consent_seconds": ("time on consent", "知情同意用时", "sec"),
    "night_share": ("interviews at night", "夜间访问", "pct"),
    "overlap_share": ("interviews overlapping the previous one", "与上一访问时间重叠", "pct"),
    "median_gap_minutes": ("median gap between interviews", "访问间隔中位数", "min"),
    "interviews_per_day": ("interviews per working day", "每个工作日访问数", "num"),
    "date_problem_share": ("interviews with impossible dates", "日期有误的访问", "pct"),
    "gps_far_share": ("GPS points far from the sampled dwelling", "GPS远离样本住户", "pct"),
    "gps_poor_accuracy_share": ("GPS points with poor accuracy", "GPS精度差", "pct"),
    "gps_missing_share": ("interviews without GPS", "缺少GPS", "pct"),
    "gps_spread_ratio": (
        "spread of GPS points relative to the sampled dwellings",
        "GPS点分布范围与样本住户之比",
        "ratio",
    ),
    "age_heaping_share": ("of ages end in 0 or 5", "年龄尾数为0或5", "pct"),
    "round_number_share": ("of other numbers end in 0 or 5", "其他数值尾数为0或5", "pct"),
    "age_boundary_share": (
        "ages just across an eligibility boundary",
        "年龄处于资格边界外侧",
        "pct",
    ),
    "birth_boundary_share": (
        "births just before 3 or 5 years before the interview",
        "出生时间刚好在3年或5年界限之前",
        "pct",
    ),
    "boy_share": ("boys among live births", "活产中男孩比例", "pct"),
    "births_per_woman": ("live births per woman", "每名妇女活产数", "num"),
    "daughters_per_woman": (
        "live-born daughters per woman (team: expected from her age and the sons reported)",
        "每名妇女活产女儿数（全队：按年龄及所报儿子数的期望值）",
        "num",
    ),
    "modal_answer_share": (
        "answers equal to the enumerator's most frequent one",
        "答案集中度",
        "pct",
    ),
    "dk_other_rate_low": (
        "don't know, refused or 'other' answers",
        "“不知道/拒答/其他”比例",
        "pct",
    ),
    "applicable_questions": ("applicable questions per interview", "每份问卷适用题目数", "num"),
    "screened_out_share": (
        "of contacted households screened out (no eligible respondent)",
        "接触住户被筛为无合格调查对象",
        "pct",
    ),
    "straight_lining_share": ("interviews straight-lining a battery", "量表题全部同一答案", "pct"),
    "outdated_version_share": ("submissions on an old form version", "使用旧版问卷", "pct"),
    "share_done": ("sampled units done", "样本完成比例", "pct"),
    "profile_score": ("answer profile unlike the team's", "答案分布与全队不同", "num"),
    "multiple_anomaly_share": (
        "with two or more kinds of anomaly",
        "同时有两类及以上异常",
        "pct",
    ),
}

COUNTED = frozenset({"multiple_anomaly_share"})
"""Share indicators whose reason names the count it rests on: "3 of 13 interviews (23%)
with two or more kinds of anomaly vs team 1%"."""


def show(value: float, fmt: str) -> str:
    """A value as people read it: 38%, 11 min, 4.2 s, 2.3."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "?"
    if fmt == "pct":
        return f"{100 * value:.0f}%" if value >= 0.01 or value == 0 else f"{100 * value:.1f}%"
    if fmt == "min":
        return f"{value:.0f} min" if value >= 10 else f"{value:.1f} min"
    if fmt == "sec":
        return f"{value:.1f} s"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}"


def reason(
    name: str,
    value: float,
    team: float,
    n: int,
    language: str = "en",
    successes: float | None = None,
) -> str:
    """One reason: ``median duration 11 min vs team 34 min (n=41)``; zh in Chinese. An
    indicator in :data:`COUNTED` with its ``successes`` names the count: ``3 of 13
    interviews (23%) with two or more kinds of anomaly vs team 1%``."""
    en, zh, fmt = LABELS.get(name, (name.replace("_", " "), name, "num"))
    if name in COUNTED and successes is not None and not math.isnan(successes):
        k = round(float(successes))
        if language == "zh":
            return f"{n}份访问中{k}份（{show(value, fmt)}）{zh}，全队 {show(team, fmt)}"
        return f"{k} of {n} interviews ({show(value, fmt)}) {en} vs team {show(team, fmt)}"
    if language == "zh":
        return f"{zh} {show(value, fmt)}，全队 {show(team, fmt)}（n={n}）"
    if fmt == "pct" and en.startswith("of "):
        return f"{show(value, fmt)} {en} vs team {show(team, fmt)} (n={n})"
    return f"{en} {show(value, fmt)} vs team {show(team, fmt)} (n={n})"


FLAG_REASONS: dict[str, tuple[str, str]] = {
    "Q703": ("GPS points clustered in one place", "GPS点集中在一处"),
    "Q804": ("sex ratio at birth outside the expected range", "出生性别比超出正常范围"),
}
