"""Blocks both bundled questionnaires share: metadata, the sampled household, the visit
outcome, shared code lists, and the closing page with the final result code.

The names made here (``hhid``, ``psu``, ``stratum``, ``province``, ``urban``, ``result``,
``a_cmc_int``...) are the design variables that weighting and quality control read; see
``CONVENTIONS.md``.
"""

from __future__ import annotations

from forms.questionnaires.authoring import FormSpec, T

AUDIT_PARAMETERS = (
    "location-priority=balanced location-min-interval=60 location-max-age=120 track-changes=true"
)
GPS_PARAMETERS = "capture-accuracy=10 warning-accuracy=20"
SAMPLE_FILE = "households.csv"
SAMPLE_INSTANCE = "households"
SAMPLE_COLUMNS = ("hhid", "psu", "stratum", "province", "urban", "address")
NO_ONE_HOME_VISITS = 3
"""Visits after which 'no one at home' is a final result (before it: revisit)."""

PROVINCES = (
    (11, "北京", "Beijing"),
    (12, "天津", "Tianjin"),
    (13, "河北", "Hebei"),
    (14, "山西", "Shanxi"),
    (15, "内蒙古", "Inner Mongolia"),
    (21, "辽宁", "Liaoning"),
    (22, "吉林", "Jilin"),
    (23, "黑龙江", "Heilongjiang"),
    (31, "上海", "Shanghai"),
    (32, "江苏", "Jiangsu"),
    (33, "浙江", "Zhejiang"),
    (34, "安徽", "Anhui"),
    (35, "福建", "Fujian"),
    (36, "江西", "Jiangxi"),
    (37, "山东", "Shandong"),
    (41, "河南", "Henan"),
    (42, "湖北", "Hubei"),
    (43, "湖南", "Hunan"),
    (44, "广东", "Guangdong"),
    (45, "广西", "Guangxi"),
    (46, "海南", "Hainan"),
    (50, "重庆", "Chongqing"),
    (51, "四川", "Sichuan"),
    (52, "贵州", "Guizhou"),
    (53, "云南", "Yunnan"),
    (54, "西藏", "Xizang (Tibet)"),
    (61, "陕西", "Shaanxi"),
    (62, "甘肃", "Gansu"),
    (63, "青海", "Qinghai"),
    (64, "宁夏", "Ningxia"),
    (65, "新疆", "Xinjiang"),
)
"""Provinces by their GB/T 2260 two-digit codes."""

RESULT_CODES = (
    (1, "完成", "Completed"),
    (2, "部分完成", "Partly completed"),
    (
        3,
        f"{NO_ONE_HOME_VISITS}次及以上上门家中无人",
        f"No one at home after {NO_ONE_HOME_VISITS}+ visits",
    ),
    (4, "拒绝访问（住户或被选中的人）", "Refused (the household or the selected person)"),
    (5, "空房或非住宅", "Dwelling vacant or not a dwelling"),
    (6, "找不到地址或住宅已拆除", "Dwelling not found or demolished"),
    (7, "无符合条件的调查对象", "No eligible person"),
    (8, "调查对象多次未遇或无能力回答", "Eligible person not available or incapacitated"),
    (9, "全户长期外出", "Entire household away for an extended period"),
    (
        10,
        "无法确定是否符合条件（户籍地不清楚或拒答）",
        "Eligibility unknown (hukou place not known or refused)",
    ),
    (11, "未完成，需再次上门", "Not final: revisit needed"),
    (96, "其他", "Other"),
)
"""Final result of a household visit (the calculate ``result``)."""


def shared_lists(f: FormSpec) -> None:
    """Code lists both questionnaires use."""
    f.choice_list("yes_no", [(1, "是", "Yes"), (2, "否", "No")], missing=True)
    f.choice_list("sex", [(1, "男", "Male"), (2, "女", "Female")])
    f.choice_list("province", PROVINCES, missing=True)
    f.choice_list(
        "education",
        [
            (1, "未上过学", "Never attended school"),
            (2, "小学", "Primary school"),
            (3, "初中", "Junior secondary school"),
            (4, "高中/中专", "Senior secondary or secondary vocational school"),
            (5, "大学专科", "Junior college (dazhuan)"),
            (6, "大学本科", "University (bachelor)"),
            (7, "研究生", "Postgraduate"),
        ],
        missing=True,
    )
    f.choice_list(
        "marital",
        [
            (1, "未婚", "Never married"),
            (2, "初婚", "First marriage"),
            (3, "再婚", "Remarried"),
            (4, "离婚", "Divorced"),
            (5, "丧偶", "Widowed"),
            (6, "同居", "Cohabiting"),
        ],
        missing=True,
    )
    f.choice_list(
        "hukou_type",
        [
            (1, "农业", "Agricultural"),
            (2, "非农业", "Non-agricultural"),
            (3, "农业转居民", "Resident (converted from agricultural)"),
            (4, "非农业转居民", "Resident (converted from non-agricultural)"),
            (5, "居民", "Resident (unified hukou)"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "ethnicity",
        [
            (1, "汉族", "Han"),
            (2, "蒙古族", "Mongol"),
            (3, "回族", "Hui"),
            (4, "藏族", "Tibetan"),
            (5, "维吾尔族", "Uyghur"),
            (6, "苗族", "Miao"),
            (7, "彝族", "Yi"),
            (8, "壮族", "Zhuang"),
            (9, "布依族", "Bouyei"),
            (10, "朝鲜族", "Korean"),
            (11, "满族", "Manchu"),
            (12, "侗族", "Dong"),
            (13, "瑶族", "Yao"),
            (14, "白族", "Bai"),
            (15, "土家族", "Tujia"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "visit_result",
        [
            (1, "见到住户成员，可以访问", "Met a household member, interview possible"),
            (2, "家中无人", "No one at home"),
            (3, "住户拒绝访问", "Household refused"),
            (4, "空房或非住宅", "Dwelling vacant or not a dwelling"),
            (5, "找不到地址或住宅已拆除", "Dwelling not found or demolished"),
            (6, "全户长期外出", "Entire household away for an extended period"),
        ],
        other=True,
    )
    f.choice_list("consent", [(1, "同意", "Agrees"), (2, "不同意", "Does not agree")])
    f.choice_list("result", RESULT_CODES)
    f.choice_list(
        "interview_status",
        [(1, "完成", "Completed"), (2, "部分完成（访问中断）", "Partly completed (broke off)")],
    )
    f.choice_list(
        "contraceptive",
        [
            (1, "男性绝育", "Male sterilisation"),
            (2, "女性绝育", "Female sterilisation"),
            (3, "宫内节育器", "IUD"),
            (4, "皮下埋植", "Implant"),
            (5, "口服避孕药", "Pill"),
            (6, "避孕针", "Injectable"),
            (7, "避孕套", "Condom"),
            (8, "外用避孕药具", "Spermicide or other vaginal method"),
            (9, "安全期或体外排精", "Rhythm or withdrawal"),
        ],
        other=True,
        missing=True,
    )


def metadata(f: FormSpec) -> None:
    """start, end, today, deviceid, username and the audit log with location and changes."""
    for kind in ("start", "end", "today", "deviceid", "username"):
        f.metadata(kind)
    f.metadata("audit", parameters=AUDIT_PARAMETERS)


def interview_date(f: FormSpec) -> None:
    """Interview year, month and century-month code (CMC = (year - 1900) * 12 + month)."""
    f.calculate(
        "a_int_year", "int(format-date(${today}, '%Y'))", label=T("调查年份", "Interview year")
    )
    f.calculate(
        "a_int_month", "int(format-date(${today}, '%n'))", label=T("调查月份", "Interview month")
    )
    f.calculate(
        "a_cmc_int",
        "(${a_int_year} - 1900) * 12 + ${a_int_month}",
        label=T("调查时间的世纪月编码", "Interview date as century-month code"),
    )


def identification(f: FormSpec) -> None:
    """The enumerator, the sampled household (from the sample list) and its design variables."""
    with f.group("a_id", T("一、识别信息", "A. Identification"), field_list=True):
        f.text(
            "a01_enum_code",
            T("请输入您的调查员编号", "Enter your enumerator code"),
            hint=T(
                "本设备未设置用户名时才需要填写。",
                "Asked only when the device has no user name set.",
            ),
            relevant="${username} = ''",
            check=(
                "regex(., '^[A-Za-z0-9_.-]{2,32}$') and "
                f"count(instance('{SAMPLE_INSTANCE}')/root/item[enumerator = current()]) > 0"
            ),
            check_message=T(
                "编号由2至32个字母、数字或 _ . - 组成，且须是样本名单中分配了住户的调查员编号。",
                "The code has 2 to 32 letters, digits or _ . - and must be an enumerator code "
                "that has households assigned in the sample list.",
            ),
        )
        f.calculate(
            "a_enum",
            "if(${username} != '', ${username}, ${a01_enum_code})",
            label=T("调查员", "Enumerator"),
        )
        f.row(
            f"select_one_from_file {SAMPLE_FILE}",
            "a02_hh",
            T("请选择本次要访问的样本住户", "Select the sampled household you are visiting"),
            hint=T(
                "列表只显示分配给您的样本住户。",
                "The list shows only the households assigned to you.",
            ),
            choice_filter="enumerator = ${a_enum}",
            required="yes",
            required_message=T("必须选择一户样本住户。", "Select a sampled household."),
        )
        for column in SAMPLE_COLUMNS:
            f.calculate(
                column,
                f"instance('{SAMPLE_INSTANCE}')/root/item[name = ${{a02_hh}}]/{column}",
                label=_SAMPLE_LABELS[column],
            )
        f.note(
            "a03_hh_note",
            T(
                "住户编号：${hhid}　地址：${address}。请核对门牌。",
                "Household ID: ${hhid}. Address: ${address}. Check the door number.",
            ),
        )


_SAMPLE_LABELS = {
    "hhid": T("住户编号", "Household ID"),
    "psu": T(
        "初级抽样单位（村/居委会）", "Primary sampling unit (village or neighbourhood committee)"
    ),
    "stratum": T("层", "Stratum"),
    "province": T("省份代码", "Province code"),
    "urban": T("城乡（1=城镇，2=乡村）", "Urban (1) or rural (2)"),
    "address": T("地址", "Address"),
}


def visit(f: FormSpec, consent_text: T) -> None:
    """Visit number, dwelling GPS, contact outcome and the informant's consent."""
    with f.group("a_visit", T("访问记录", "Visit record"), field_list=True):
        f.integer(
            "a04_visit_no",
            T("这是对本户的第几次上门访问？", "Which visit to this household is this?"),
            1,
            9,
            hint=T(
                f"家中无人时须在不同日期、不同时段上门至少{NO_ONE_HOME_VISITS}次。",
                f"When no one is at home, visit at least {NO_ONE_HOME_VISITS} times on "
                "different days and at different times.",
            ),
        )
        f.row(
            "geopoint",
            "a05_gps",
            T("请在住户门口采集GPS位置", "Record the GPS position at the dwelling's door"),
            hint=T(
                "等待精度达到10米以内再保存。",
                "Wait until the accuracy is within 10 m before saving.",
            ),
            parameters=GPS_PARAMETERS,
            required="yes",
            required_message=T("必须采集住户位置。", "The dwelling's position is required."),
        )
        f.select_one("a06_visit_result", "visit_result", T("本次上门结果", "Result of this visit"))
        f.other_specify("a06_visit_oth", "a06_visit_result")
    f.select_one(
        "a07_consent",
        "consent",
        consent_text,
        relevant="${a06_visit_result} = 1",
    )


def visit_result_prefix() -> list[tuple[str, str]]:
    """(condition, result code) pairs for the outcomes of the visit itself, in order."""
    home = f"if(${{a04_visit_no}} >= {NO_ONE_HOME_VISITS}, 3, 11)"
    away = f"if(${{a04_visit_no}} >= {NO_ONE_HOME_VISITS}, 9, 11)"
    return [
        ("${a06_visit_result} = 2", home),
        ("${a06_visit_result} = 3", "4"),
        ("${a06_visit_result} = 4", "5"),
        ("${a06_visit_result} = 5", "6"),
        ("${a06_visit_result} = 6", away),
        ("${a06_visit_result} = 96", "96"),
        ("${a07_consent} = 2", "4"),
    ]


def nested_if(pairs: list[tuple[str, str]], otherwise: str) -> str:
    """``if(c1, v1, if(c2, v2, ... otherwise))`` from ``(condition, value)`` pairs."""
    expression = otherwise
    for condition, value in reversed(pairs):
        expression = f"if({condition}, {value}, {expression})"
    return expression


def closing(f: FormSpec, interviewed: str, result_pairs: list[tuple[str, str]]) -> None:
    """The closing page (interview status, remarks) and the final ``result`` code."""
    with f.group("z_close", T("结束", "Closing"), relevant=interviewed, field_list=True):
        f.select_one(
            "z01_status",
            "interview_status",
            T("访问结果", "Interview result"),
            hint=T(
                "访问中断、被访者无法继续时选“部分完成”，未答的题目可以留空。",
                "Choose 'partly completed' when the interview broke off and the respondent "
                "cannot continue; unanswered questions may then stay empty.",
            ),
            required="yes",
        )
        f.text(
            "z02_phone",
            T("被访者联系电话（用于复核回访）", "Respondent's phone number (for call-backs)"),
            check="regex(., '^1[3-9][0-9]{9}$|^0[0-9]{9,11}$')",
            check_message=T(
                "请输入11位手机号或带区号的固定电话。",
                "Enter an 11-digit mobile number or a landline with area code.",
            ),
            required=False,
            pii=True,
        )
        f.note(
            "z03_thanks",
            T("访问结束，感谢您的配合！", "The interview is over. Thank you for your time!"),
        )
    f.text("z04_remarks", T("调查员备注", "Enumerator's remarks"), required=False)
    f.row(
        "select_one result",
        "result",
        T(
            "本户本次访问的最终结果（自动生成）",
            "Final result of this visit (filled in automatically)",
        ),
        calculation=nested_if(result_pairs, "if(${z01_status} = 2, 2, 1)"),
        read_only="yes",
    )
