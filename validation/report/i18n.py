"""The report's words in Chinese and English.

Check codes are shown with the label the caller passes (``ReportInputs.check_labels``), else
with :data:`CHECK_LABELS`, else as they are.
"""

from __future__ import annotations

from validation.report.errors import ReportError

LANGUAGES = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "report": {"zh": "调查质量日报", "en": "Daily fieldwork quality report"},
    "generated": {"zh": "生成时间", "en": "Generated"},
    "since": {"zh": "统计起始日期", "en": "Interviews since"},
    "all_dates": {"zh": "全部日期", "en": "all dates"},
    "overview": {"zh": "概览", "en": "Overview"},
    "interviews": {"zh": "访问数", "en": "Interviews"},
    "enumerators": {"zh": "调查员", "en": "Enumerators"},
    "enumerator": {"zh": "调查员", "en": "Enumerator"},
    "flags": {"zh": "质量标记", "en": "Flags"},
    "flagged_interviews": {"zh": "被标记访问", "en": "Flagged interviews"},
    "units": {"zh": "样本户", "en": "Sampled units"},
    "complete": {"zh": "已完成", "en": "Complete"},
    "incomplete": {"zh": "未完成(拒访等)", "en": "Incomplete (refused, ...)"},
    "pending": {"zh": "未访问", "en": "Not visited"},
    "total": {"zh": "合计", "en": "Total"},
    "pct_complete": {"zh": "完成率 %", "en": "% complete"},
    "progress": {"zh": "样本进度", "en": "Progress against the sample"},
    "by_county": {"zh": "按区县", "en": "By county"},
    "by_psu": {"zh": "按村/居(PSU)完成率", "en": "Completion by PSU"},
    "county": {"zh": "区县", "en": "County"},
    "psu": {"zh": "初级抽样单位", "en": "PSU"},
    "risk_ranking": {"zh": "调查员风险排序", "en": "Enumerator risk ranking"},
    "rank": {"zh": "排名", "en": "Rank"},
    "name": {"zh": "姓名", "en": "Name"},
    "team": {"zh": "小组", "en": "Team"},
    "risk": {"zh": "风险分", "en": "Risk"},
    "reasons": {"zh": "原因", "en": "Reasons"},
    "errors": {"zh": "错误", "en": "Errors"},
    "warnings": {"zh": "警告", "en": "Warnings"},
    "flagged": {"zh": "被标记", "en": "Flagged"},
    "approved": {"zh": "已通过", "en": "Approved"},
    "hasIssues": {"zh": "有问题", "en": "Has issues"},
    "rejected": {"zh": "已拒绝", "en": "Rejected"},
    "review_state": {"zh": "审核状态", "en": "Review state"},
    "indicators": {"zh": "调查员指标与全队分布", "en": "Enumerator indicators against the team"},
    "indicators_note": {
        "zh": "柱形为全体调查员的分布;选择调查员后以红线标出其数值。",
        "en": "Bars: the distribution over all enumerators; pick an enumerator to mark "
        "theirs in red.",
    },
    "durations": {"zh": "访问时长分布", "en": "Interview durations"},
    "minutes": {"zh": "分钟", "en": "minutes"},
    "all_interviews": {"zh": "全部访问", "en": "all interviews"},
    "durations_by_enumerator": {
        "zh": "风险最高的 {n} 名调查员的访问时长(框:25%–75%,线:5%–95%,白线:中位数)",
        "en": "Durations of the {n} riskiest enumerators (box: 25-75%, line: 5-95%, white: median)",
    },
    "short_fence": {"zh": "过短界限", "en": "too-short fence"},
    "heatmap": {"zh": "访问开始时刻(小时×日期)", "en": "Interviews by hour of day and day"},
    "hour": {"zh": "小时", "en": "Hour"},
    "day": {"zh": "日期", "en": "Day"},
    "gps_map": {"zh": "访问位置与样本住户", "en": "Interview locations and sampled dwellings"},
    "gps_note": {
        "zh": "灰色方块:样本住户;圆点:访问地点(红色:距样本住户超过 {km} 公里);"
        "线框:PSU 范围。显示 {shown}/{total} 个访问。",
        "en": "Grey squares: sampled dwellings; dots: interviews (red: more than {km} km "
        "from the dwelling); outlines: PSUs. {shown} of {total} interviews shown.",
    },
    "worst_psus": {
        "zh": "离样本户最远的 PSU(线:访问地点到样本户)",
        "en": "PSUs with the most interviews far from their dwellings (lines: to the dwelling)",
    },
    "no_gps": {"zh": "没有 GPS 数据。", "en": "No GPS data."},
    "srb": {"zh": "出生性别比", "en": "Sex ratio at birth"},
    "srb_note": {
        "zh": "全调查出生性别比 {srb}(95% 置信区间 {low}–{high}),男 {m}、女 {f}。"
        "每个点为一名调查员;虚线为 95% 控制限。",
        "en": "Survey SRB {srb} (95% CI {low}-{high}), {m} boys and {f} girls. Each dot is "
        "an enumerator; dashed lines are 95% control limits.",
    },
    "births": {"zh": "出生数", "en": "births"},
    "median": {"zh": "中位数", "en": "median"},
    "srb_band": {
        "zh": "红点:超出 95% 控制限的调查员。通常认为 {low}–{high} 之外需要核查。",
        "en": "Red: enumerators outside the 95% control limits. Outside {low}-{high} usually "
        "needs a look.",
    },
    "heaping": {"zh": "年龄堆积", "en": "Age heaping"},
    "heaping_note": {
        "zh": "Whipple 指数 {whipple}(23–57 岁,100 为无堆积);"
        "Myers 指数 {myers}(0 为无偏好);{n} 名受访者。",
        "en": "Whipple index {whipple} (ages 23-57; 100 = no heaping); Myers index {myers} "
        "(0 = no digit preference); {n} respondents.",
    },
    "age": {"zh": "年龄", "en": "Age"},
    "last_digit": {"zh": "年龄尾数分布", "en": "Last digit of age"},
    "drilldown": {"zh": "调查员详情", "en": "One enumerator"},
    "choose": {"zh": "选择调查员:", "en": "Choose an enumerator:"},
    "flagged_list": {"zh": "被标记的访问", "en": "Flagged interviews"},
    "instance": {"zh": "访问编号", "en": "Instance ID"},
    "start": {"zh": "开始时间", "en": "Start"},
    "duration": {"zh": "时长(分钟)", "en": "Duration (min)"},
    "distance": {"zh": "距样本户(公里)", "en": "From dwelling (km)"},
    "check": {"zh": "检查项", "en": "Check"},
    "severity": {"zh": "严重程度", "en": "Severity"},
    "value": {"zh": "数值", "en": "Value"},
    "message": {"zh": "说明", "en": "Message"},
    "checks": {"zh": "检查项汇总", "en": "Checks"},
    "shown_first": {
        "zh": "仅显示前 {n} 条,完整列表见 Excel 工作簿。",
        "en": "First {n} shown; the workbook has them all.",
    },
    "none": {"zh": "无", "en": "none"},
    "error": {"zh": "错误", "en": "error"},
    "warning": {"zh": "警告", "en": "warning"},
    "info": {"zh": "提示", "en": "info"},
    "summary_sheet": {"zh": "调查员汇总", "en": "Enumerators"},
    "progress_sheet": {"zh": "进度", "en": "Progress"},
    "checks_sheet": {"zh": "检查项", "en": "Checks"},
    "todo": {"zh": "今日需处理的五件事", "en": "Five things to act on today"},
    "todo_risk": {
        "zh": "联系调查员 {who}(风险分 {risk}):{reasons}",
        "en": "Call {who} (risk {risk}): {reasons}",
    },
    "todo_backcheck": {
        "zh": "派复核员复访 {who} 的 {n} 份被标记访问",
        "en": "Send a back-checker to {n} flagged interviews of {who}",
    },
    "todo_progress": {
        "zh": "进度最慢的区县:{county},完成 {pct}%({done}/{total})",
        "en": "Slowest county: {county}, {pct}% complete ({done}/{total})",
    },
    "todo_srb": {
        "zh": "出生性别比 {srb} 超出 {low}–{high}:核查出生史",
        "en": "Sex ratio at birth {srb} is outside {low}-{high}: check the birth histories",
    },
    "todo_review": {
        "zh": "审核 {n} 份有错误标记、尚未审核的访问",
        "en": "Review {n} interviews with error flags not yet reviewed",
    },
    "todo_check": {
        "zh": "最常见的问题:{check}({n} 条)",
        "en": "Most frequent problem: {check} ({n} flags)",
    },
    "todo_nothing": {"zh": "今日无紧急事项。", "en": "Nothing urgent today."},
    "interviews_done": {
        "zh": "{title}:{interviews} 份访问,{enumerators} 名调查员,样本完成 {pct}%。",
        "en": "{title}: {interviews} interviews by {enumerators} enumerators, {pct}% of the "
        "sample complete.",
    },
    "backcheck": {"zh": "复核差错率超标", "en": "back-check error rate above limit"},
    "no_data": {"zh": "无数据", "en": "no data"},
}

INDICATORS: dict[str, dict[str, str]] = {
    "interviews": {"zh": "访问数", "en": "interviews"},
    "flagged_share": {"zh": "被标记访问比例", "en": "share of interviews flagged"},
    "duration_median": {"zh": "访问时长中位数(分钟)", "en": "median duration (min)"},
    "short_share": {"zh": "过短访问比例", "en": "share too short"},
    "night_share": {"zh": "夜间(22–7 时)访问比例", "en": "share at night (22-7 h)"},
    "gps_median_km": {"zh": "距样本户中位距离(公里)", "en": "median km from dwelling"},
    "srb": {"zh": "出生性别比", "en": "sex ratio at birth"},
    "whipple": {"zh": "Whipple 指数", "en": "Whipple index"},
    "backcheck_error_rate": {"zh": "复核差错率", "en": "back-check error rate"},
    "rejected_share": {"zh": "被拒绝比例", "en": "share rejected"},
}

CHECK_LABELS: dict[str, dict[str, str]] = {
    "backcheck": TEXT["backcheck"],
    # the quality stage's checks (validation.quality)
    "form_version": {"zh": "旧版问卷", "en": "outdated form version"},
    "progress": {"zh": "样本进度", "en": "progress vs sample"},
    "dates": {"zh": "日期错误", "en": "impossible dates"},
    "age_heaping": {"zh": "年龄堆积", "en": "age heaping"},
    "digit_preference": {"zh": "尾数偏好", "en": "digit preference"},
    "boundary_displacement": {"zh": "年龄边界外移", "en": "boundary displacement"},
    "sex_ratio_at_birth": {"zh": "出生性别比", "en": "sex ratio at birth"},
    "births_per_woman": {"zh": "每名妇女活产数", "en": "births per woman"},
    "omitted_daughters": {"zh": "漏报女儿", "en": "daughters left out of birth histories"},
    "low_variance": {"zh": "答案变化少", "en": "low variance of answers"},
    "routes": {"zh": "跳问路径", "en": "skip routes"},
    "straight_lining": {"zh": "量表题同一答案", "en": "straight-lining"},
    "duplicate_instance_ids": {"zh": "提交编号重复", "en": "duplicate instance IDs"},
    "duplicate_unit_ids": {"zh": "住户编号重复", "en": "duplicate unit IDs"},
    "units_not_in_sample": {"zh": "样本外住户", "en": "units not in the sample"},
    "units_visited_twice": {"zh": "住户重复访问", "en": "units visited twice"},
    "near_duplicates": {"zh": "近似重复问卷", "en": "near-duplicates"},
    "outliers": {"zh": "异常值", "en": "outliers"},
    "paradata": {"zh": "访问过程数据", "en": "paradata"},
    "answer_rates": {"zh": "不知道/拒答/缺失率", "en": "don't know, refusal, missing rates"},
    "duplicate_id": {"zh": "编号重复", "en": "duplicate ID"},
    "near_duplicate": {"zh": "近似重复", "en": "near-duplicate"},
    "outlier": {"zh": "异常值", "en": "outlier"},
    "logic": {"zh": "逻辑错误", "en": "logic"},
    "dont_know": {"zh": "不知道比例高", "en": "high don't-know rate"},
    "duration": {"zh": "访问过短", "en": "too short"},
    "gps": {"zh": "GPS 距离", "en": "GPS distance"},
    "night": {"zh": "夜间访问", "en": "night interview"},
    "srb": {"zh": "出生性别比", "en": "sex ratio at birth"},
    "heaping": {"zh": "年龄堆积", "en": "age heaping"},
}


def check_language(language: str) -> str:
    """``language`` if the report speaks it; else :class:`ReportError`."""
    if language not in LANGUAGES:
        raise ReportError(f"report language '{language}': choose one of {', '.join(LANGUAGES)}")
    return language


def text(key: str, language: str, **values: object) -> str:
    """The report text ``key`` in ``language``, with ``{placeholders}`` filled in."""
    words = TEXT[key][language]
    return words.format(**values) if values else words


def indicator_label(name: str, language: str) -> str:
    """The label of an indicator: the report's, the quality stage's, or its name."""
    if name in INDICATORS:
        return INDICATORS[name][language]
    try:
        from validation.quality.words import LABELS
    except ImportError:  # the quality stage is not part of this build
        return name
    words = LABELS.get(name)
    if not words:
        return name
    return words[1] if language == "zh" else words[0]


def check_label(code: str, language: str, labels: dict[str, dict[str, str]]) -> str:
    """The label of a check code: the caller's, the report's, or the code itself."""
    for table in (labels, CHECK_LABELS):
        label = table.get(code, {}).get(language)
        if label:
            return label
    return code
