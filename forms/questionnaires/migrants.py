"""Source of the bundled migrant (floating-population) dynamic monitoring questionnaire.

Modelled on the China Migrants Dynamic Survey (CMDS): in each sampled household one person is
screened (aged 15+, living here one month or more, hukou in another county, district or city;
separation from the hukou within the same city does not count), then answers the household
roster, migration, employment and income, housing, social insurance, basic public health
services, marriage, childbearing and family-planning services (women 15-49) and social
integration modules. ``build.py`` writes it to migrants.xlsx.
"""

# ruff: noqa: E501  (question texts are kept whole on one line, to read and grep them)

from __future__ import annotations

from forms.questionnaires import common
from forms.questionnaires.authoring import FormSpec, T

FORM_ID = "migrants"
VERSION = "2026110101"
MIN_AGE = 15
INTERVIEWED = "${b_elig} = 1"
WOMAN = f"{INTERVIEWED} and ${{b01_sex}} = 2 and ${{b_age}} <= 49"

SCREEN_REASONS = (
    (0, "符合调查条件", "Eligible"),
    (1, "不满15周岁", "Under 15"),
    (2, "在本地居住不满一个月", "Lived here less than one month"),
    (3, "户口在本县（市、区）", "Hukou in this county (city, district)"),
    (4, "同一城市内市辖区之间人户分离", "Hukou in another district of the same city"),
    (5, "户口在港澳台或国外", "Hukou in Hong Kong, Macao, Taiwan or abroad"),
    (6, "户籍地不清楚或拒答，无法确定", "Hukou place not known or refused: eligibility unknown"),
)
"""Screening result: 0 eligible, else why the person is screened out (``b_screen_result``)."""


def spec() -> FormSpec:
    """The migrant questionnaire as a :class:`FormSpec`."""
    f = FormSpec(
        FORM_ID,
        T("全国流动人口动态监测调查", "Migrant Population Dynamic Monitoring Survey"),
        VERSION,
        "concat('M-', ${hhid}, '-', ${result})",
        partial_switch="z01_status",
    )
    common.shared_lists(f)
    _lists(f)
    common.metadata(f)
    common.interview_date(f)
    common.identification(f)
    common.visit(
        f,
        T(
            "您好！我是国家卫生健康委员会流动人口动态监测调查的调查员。本次调查了解流动人口的工作、"
            "生活和健康服务情况，您家是随机抽中的样本户。所有回答严格保密，仅用于统计分析。"
            "请问您是否同意接受访问？",
            "Hello! I am an interviewer for the Migrant Population Dynamic Monitoring Survey of the "
            "National Health Commission. The survey studies the work, life and health services of "
            "migrants; your household was chosen at random. All answers are strictly confidential "
            "and used only for statistics. Do you agree to be interviewed?",
        ),
    )
    _screening(f)
    f.interview_started()
    _roster(f)
    _migration(f)
    _employment(f)
    _housing_insurance(f)
    _public_health(f)
    _women(f)
    _integration(f)
    common.closing(
        f,
        INTERVIEWED,
        [*common.visit_result_prefix(), ("${b_screen_result} = 6", "10"), ("${b_elig} = 0", "7")],
    )
    f.check_closed()
    return f


def _lists(f: FormSpec) -> None:
    f.choice_list(
        "hukou_place_m",
        [
            (1, "本县（市、区）", "This county (city, district)"),
            (2, "本市其他县（县级市）", "Another county (county-level city) of this city"),
            (3, "本市其他区", "Another district of this city"),
            (4, "本省其他地级市", "Another prefecture-level city of this province"),
            (5, "外省", "Another province"),
            (6, "港澳台或国外", "Hong Kong, Macao, Taiwan or abroad"),
        ],
        missing=True,
    )
    f.choice_list("screen_reason", SCREEN_REASONS)
    f.choice_list(
        "rel_resp",
        [
            (0, "本人", "Respondent"),
            (1, "配偶", "Spouse"),
            (2, "子女", "Child"),
            (3, "儿媳或女婿", "Child-in-law"),
            (4, "孙子女", "Grandchild"),
            (5, "父母", "Parent"),
            (6, "公婆或岳父母", "Parent-in-law"),
            (7, "祖父母或外祖父母", "Grandparent"),
            (8, "兄弟姐妹", "Sibling"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "live_now",
        [(1, "本地", "Here"), (2, "户籍地", "At the hukou place"), (3, "其他地方", "Elsewhere")],
        missing=True,
    )
    f.choice_list(
        "move_reason",
        [
            (1, "务工或工作", "Work"),
            (2, "经商", "Business"),
            (3, "家属随迁", "Accompanying family"),
            (4, "婚姻嫁娶", "Marriage"),
            (5, "拆迁搬家", "Demolition or relocation"),
            (6, "投亲靠友", "Joining relatives or friends"),
            (7, "学习培训", "Study or training"),
            (8, "异地养老", "Retirement"),
            (9, "照顾老人或孩子", "Caring for elderly or children"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list("stay", [(1, "打算", "Yes"), (2, "不打算", "No")], missing=True)
    f.choice_list(
        "stay_long",
        [
            (1, "1至2年", "1-2 years"),
            (2, "3至5年", "3-5 years"),
            (3, "6至10年", "6-10 years"),
            (4, "10年以上", "More than 10 years"),
            (5, "定居", "Settle permanently"),
        ],
        missing=True,
    )
    f.choice_list("willing", [(1, "愿意", "Willing"), (2, "不愿意", "Not willing")], missing=True)
    f.choice_list(
        "reason_no_work",
        [
            (1, "料理家务或带孩子", "Housework or childcare"),
            (2, "丧失劳动能力", "Unable to work"),
            (3, "退休", "Retired"),
            (4, "怀孕或哺乳", "Pregnant or breastfeeding"),
            (5, "失业", "Unemployed"),
            (6, "在校学习", "In school"),
            (7, "不想工作", "Does not want to work"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "occupation",
        [
            (1, "国家机关、党群组织、企事业单位负责人", "Manager of a public body or enterprise"),
            (2, "专业技术人员", "Professional or technician"),
            (3, "公务员、办事人员", "Civil servant or clerk"),
            (4, "经商或商贩", "Trader or vendor"),
            (5, "餐饮", "Catering"),
            (6, "家政或保洁", "Domestic or cleaning work"),
            (7, "快递或外卖", "Courier or food delivery"),
            (8, "其他商业、服务业人员", "Other commerce or service work"),
            (9, "农林牧渔业生产人员", "Agriculture, forestry, animal husbandry or fishery"),
            (10, "生产制造", "Manufacturing"),
            (11, "建筑或装修", "Construction or decoration"),
            (12, "运输", "Transport"),
            (13, "无固定职业", "No fixed occupation"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "emp_status",
        [
            (1, "有固定雇主的雇员", "Employee with a fixed employer"),
            (
                2,
                "无固定雇主的雇员（零工、散工）",
                "Employee without a fixed employer (casual work)",
            ),
            (3, "雇主", "Employer"),
            (4, "自营劳动者", "Own-account worker"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "contract",
        [
            (1, "有固定期限劳动合同", "Fixed-term labour contract"),
            (2, "无固定期限劳动合同", "Open-ended labour contract"),
            (3, "完成一次性工作任务", "Contract for a single task"),
            (4, "试用期", "Probation"),
            (5, "未签订劳动合同", "No labour contract"),
        ],
        missing=True,
    )
    f.choice_list(
        "housing",
        [
            (1, "单位或雇主提供免费住房", "Free housing from the employer"),
            (2, "租住单位或雇主房", "Rents from the employer"),
            (3, "租住私房（整租）", "Rents private housing (whole unit)"),
            (4, "租住私房（合租）", "Rents private housing (shared)"),
            (5, "政府提供的公租房", "Public rental housing"),
            (6, "已购商品房", "Owns commercial housing"),
            (7, "已购保障性住房", "Owns subsidised housing"),
            (8, "借住房", "Lives with others for free"),
            (9, "就业场所", "At the workplace"),
            (10, "自建房", "Self-built house"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "med_ins",
        [
            (1, "新型农村合作医疗", "New rural cooperative medical scheme"),
            (2, "城乡居民基本医疗保险", "Urban and rural residents' basic medical insurance"),
            (3, "城镇居民基本医疗保险", "Urban residents' basic medical insurance"),
            (4, "城镇职工基本医疗保险", "Urban employees' basic medical insurance"),
            (5, "公费医疗", "Public medical care"),
            (0, "没有参加任何医疗保险", "No medical insurance"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "ins_place",
        [(1, "本地", "Here"), (2, "户籍地", "At the hukou place"), (3, "其他地方", "Elsewhere")],
        missing=True,
    )
    f.choice_list(
        "ss_card",
        [
            (1, "已办理", "Has one"),
            (2, "没办，但听说过", "No, but has heard of it"),
            (3, "没听说过", "Never heard of it"),
        ],
        missing=True,
    )
    f.choice_list(
        "health_record",
        [
            (1, "没建，没听说过", "No, never heard of it"),
            (2, "没建，但听说过", "No, but has heard of it"),
            (3, "是，已经建立", "Yes"),
        ],
        missing=True,
    )
    f.choice_list(
        "health_topics",
        [
            (1, "职业病防治", "Occupational diseases"),
            (2, "性病或艾滋病防治", "Sexually transmitted diseases and HIV/AIDS"),
            (3, "生殖健康与避孕", "Reproductive health and contraception"),
            (4, "结核病防治", "Tuberculosis"),
            (5, "控制吸烟", "Tobacco control"),
            (6, "心理健康", "Mental health"),
            (7, "慢性病防治", "Chronic diseases"),
            (8, "妇幼保健或优生优育", "Maternal and child health"),
            (9, "突发公共事件自救", "Self-help in public emergencies"),
            (0, "都没有接受过", "None of these"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "family_doctor",
        [
            (1, "是，已经签约", "Yes, signed"),
            (2, "没签约，但听说过", "No, but has heard of it"),
            (3, "没听说过", "Never heard of it"),
        ],
        missing=True,
    )
    f.choice_list(
        "birth_place",
        [(1, "本地", "Here"), (2, "户籍地", "At the hukou place"), (3, "其他地方", "Elsewhere")],
        missing=True,
    )
    f.choice_list(
        "fp_services",
        [
            (1, "免费避孕药具", "Free contraceptives"),
            (2, "孕前优生健康检查", "Pre-pregnancy eugenic health check"),
            (3, "孕产期保健", "Antenatal and postnatal care"),
            (4, "生殖健康检查", "Reproductive health check-up"),
            (5, "避孕节育咨询或宣传", "Family planning counselling or information"),
            (6, "儿童预防接种", "Childhood vaccination"),
            (0, "都没有", "None of these"),
        ],
        missing=True,
    )
    f.choice_list(
        "agree4",
        [
            (1, "完全不同意", "Strongly disagree"),
            (2, "不同意", "Disagree"),
            (3, "基本同意", "Agree"),
            (4, "完全同意", "Strongly agree"),
        ],
        missing=True,
    )


def _screening(f: FormSpec) -> None:
    """Screen the person met: eligible, or the reason for screening out."""
    with f.group(
        "b_screen",
        T("二、调查对象筛选", "B. Eligibility screening"),
        relevant="${a07_consent} = 1",
        field_list=True,
    ):
        f.select_one("b01_sex", "sex", T("被访者性别", "Respondent's sex"))
        f.integer(
            "b02_birth_year",
            T("您是哪一年出生的？（公历）", "In what year were you born (Gregorian calendar)?"),
            "${a_int_year} - 100",
            "${a_int_year}",
            range_text=T(
                "调查年份前100年至调查年份", "100 years before the survey year to the survey year"
            ),
        )
        f.integer(
            "b03_birth_month",
            T("哪一月出生？", "In what month?"),
            1,
            12,
            check="(${b02_birth_year} - 1900) * 12 + . <= ${a_cmc_int}",
            check_message=T("出生时间不能晚于调查时间", "The birth cannot be after the interview"),
        )
        f.calculate(
            "b_cmc_birth",
            "(${b02_birth_year} - 1900) * 12 + ${b03_birth_month}",
            label=T("出生世纪月编码", "Birth date as century-month code"),
        )
        f.calculate(
            "b_age",
            "int((${a_cmc_int} - ${b_cmc_birth}) div 12)",
            label=T("周岁", "Age in completed years"),
        )
        f.integer(
            "b04_arr_year",
            T(
                "您这次是哪一年来本地（本县、市、区）居住的？",
                "In what year did you come to live here (this county, city or district) this time?",
            ),
            "${b02_birth_year}",
            "${a_int_year}",
            range_text=T("出生年份至调查年份", "the birth year to the survey year"),
            hint=T(
                "本地出生、一直未离开的，填出生年月。",
                "For people born here who never left, give the birth year and month.",
            ),
        )
        f.integer(
            "b05_arr_month",
            T("哪一月？", "In what month?"),
            1,
            12,
            check="(${b04_arr_year} - 1900) * 12 + . >= ${b_cmc_birth} and (${b04_arr_year} - 1900) * 12 + . <= ${a_cmc_int}",
            check_message=T(
                "来本地的时间须在出生之后、调查时间之前",
                "Arrival must be after birth and not after the interview",
            ),
        )
        f.calculate(
            "b_cmc_arr",
            "(${b04_arr_year} - 1900) * 12 + ${b05_arr_month}",
            label=T("本次来本地时间的世纪月编码", "Arrival here as century-month code"),
        )
        f.calculate(
            "b_months_here",
            "${a_cmc_int} - ${b_cmc_arr}",
            label=T("在本地居住月数", "Months lived here"),
        )
        f.select_one(
            "b06_hukou_place",
            "hukou_place_m",
            T("您的户口登记在哪里？", "Where is your hukou registered?"),
        )
        f.select_one(
            "b07_hukou_prov",
            "province",
            T("户口登记在哪个省份？", "In which province is it registered?"),
            relevant="${b06_hukou_place} = 5",
            check=". != ${province}",
            check_message=T(
                "外省户口不能选择本省", "A hukou in another province cannot be this province"
            ),
        )
        f.row(
            "select_one screen_reason",
            "b_screen_result",
            T("筛查结果（自动生成）", "Screening result (filled in automatically)"),
            calculation=common.nested_if(
                [
                    (f"${{b_age}} < {MIN_AGE}", "1"),
                    ("${b_months_here} < 1", "2"),
                    ("${b06_hukou_place} = 1", "3"),
                    ("${b06_hukou_place} = 3", "4"),
                    ("${b06_hukou_place} = 6", "5"),
                    ("${b06_hukou_place} = 98 or ${b06_hukou_place} = 99", "6"),
                ],
                "0",
            ),
            read_only="yes",
        )
        f.calculate(
            "b_elig",
            "if(${b_screen_result} = 0, 1, 0)",
            label=T("是否符合调查条件（1=是）", "Eligible (1 = yes)"),
        )
        f.note(
            "b08_out_note",
            T(
                "此人不符合调查条件，不能作为被访者。",
                "This person is not eligible and cannot be the respondent.",
            ),
            relevant="${b_elig} = 0",
        )
        f.select_one(
            "b09_other_elig",
            "yes_no",
            T(
                "户内是否还有其他15周岁及以上、在本地居住一个月及以上、户口在外县（市、区）的成员可以接受访问？",
                "Is there another household member aged 15+, living here one month or more, with a "
                "hukou in another county (city, district), who can be interviewed?",
            ),
            relevant="${b_elig} = 0",
            check=". != 1",
            check_message=T(
                "请改为筛查该成员：返回本页开头，按该成员的情况重新填写",
                "Screen that member instead: go back to the top of this page and answer for them",
            ),
        )
    f.calculate(
        "hukou_prov",
        "if(${b06_hukou_place} = 5, ${b07_hukou_prov}, ${province})",
        label=T("被访者户口所在省份", "Respondent's hukou province"),
    )


def _roster(f: FormSpec) -> None:
    """Household roster: row 1 is the respondent; ages must fit each relation."""
    with f.group("c_hh", T("三、家庭成员", "C. Household members"), relevant=INTERVIEWED):
        f.integer(
            "c00_hh_n",
            T(
                "您家有几口人？（包括您本人、配偶、子女，以及与您在本地同住的其他家庭成员）",
                "How many people are in your family (you, your spouse, your children and other "
                "family members living with you here)?",
            ),
            1,
            20,
            unit=T("人", "people"),
        )
    resp_cmc = "${b_cmc_birth}"
    resp_marital = "indexed-repeat(${c07_marital}, ${c_roster}, 1)"
    with f.repeat(
        "c_roster", T("家庭成员", "Household member"), count="${c00_hh_n}", relevant=INTERVIEWED
    ):
        f.calculate("c_pos", "position(..)", label=T("成员序号", "Line number of the member"))
        f.text(
            "c01_name",
            T(
                "第${c_pos}位成员的姓名（第1位为被访者本人）",
                "Name of member no. ${c_pos} (no. 1 is the respondent)",
            ),
            pii=True,
        )
        f.select_one(
            "c02_rel",
            "rel_resp",
            T("与被访者的关系", "Relationship to the respondent"),
            check=(
                "((${c_pos} = 1 and . = 0) or (${c_pos} > 1 and . != 0)) and "
                "(. != 1 or count(../../c_roster[c02_rel = 1]) = 1) and "
                f"(. != 1 or {resp_marital} = 2 or {resp_marital} = 3 or {resp_marital} = 6)"
            ),
            check_message=T(
                "第1位必须是被访者本人且只有第1位是本人；配偶只能有一位，且被访者须为已婚或同居",
                "Member no. 1 must be the respondent and only no. 1; there is at most one spouse, "
                "and only if the respondent is married or cohabiting",
            ),
        )
        f.select_one(
            "c03_sex",
            "sex",
            T("性别", "Sex"),
            check="(${c_pos} != 1 or . = ${b01_sex}) and (${c02_rel} != 1 or . != ${b01_sex})",
            check_message=T(
                "本人性别须与筛查时一致；配偶性别须与被访者不同",
                "The respondent's sex must match the screening; a spouse is of the other sex",
            ),
        )
        f.integer(
            "c04_birth_year",
            T("出生年份（公历）", "Year of birth (Gregorian calendar)"),
            "${a_int_year} - 100",
            "${a_int_year}",
            range_text=T(
                "调查年份前100年至调查年份", "100 years before the survey year to the survey year"
            ),
        )
        own = "(${c04_birth_year} - 1900) * 12 + ."
        f.integer(
            "c05_birth_month",
            T("出生月份", "Month of birth"),
            1,
            12,
            check=(
                f"{own} <= ${{a_cmc_int}} and "
                f"(${{c_pos}} != 1 or {own} = {resp_cmc}) and "
                f"(${{c02_rel}} != 1 or {own} <= ${{a_cmc_int}} - {MIN_AGE * 12}) and "
                f"(${{c02_rel}} != 3 or {own} <= ${{a_cmc_int}} - {MIN_AGE * 12}) and "
                f"(${{c02_rel}} != 2 or {own} >= {resp_cmc} + 144) and "
                f"(${{c02_rel}} != 4 or {own} >= {resp_cmc} + 288) and "
                f"((${{c02_rel}} != 5 and ${{c02_rel}} != 6) or {own} <= {resp_cmc} - 144) and "
                f"(${{c02_rel}} != 7 or {own} <= {resp_cmc} - 288)"
            ),
            check_message=T(
                "出生年月与关系不符：本人须与筛查时一致；子女须比被访者小12岁以上，孙子女小24岁以上；"
                "父母、公婆或岳父母须大12岁以上，祖父母大24岁以上；配偶和儿媳女婿须满15周岁",
                "The birth date does not fit the relationship: the respondent's must match the "
                "screening; children are at least 12 years younger than the respondent, "
                "grandchildren 24; parents and parents-in-law at least 12 years older, "
                "grandparents 24; spouses and children-in-law are at least 15",
            ),
        )
        f.calculate(
            "c_cmc",
            "(${c04_birth_year} - 1900) * 12 + ${c05_birth_month}",
            label=T("出生世纪月编码", "Birth date as century-month code"),
        )
        f.calculate(
            "c_age",
            "int((${a_cmc_int} - ${c_cmc}) div 12)",
            label=T("周岁", "Age in completed years"),
        )
        f.select_one("c06_edu", "education", T("受教育程度", "Education"), relevant="${c_age} >= 6")
        f.select_one(
            "c07_marital",
            "marital",
            T("婚姻状况", "Marital status"),
            relevant=f"${{c_age}} >= {MIN_AGE}",
            check="${c02_rel} != 1 or (. = 2 or . = 3 or . = 6)",
            check_message=T(
                "配偶的婚姻状况须为已婚或同居", "A spouse must be married or cohabiting"
            ),
        )
        f.select_one("c08_hukou_type", "hukou_type", T("户口性质", "Hukou type"))
        f.other_specify("c08_hukou_oth", "c08_hukou_type")
        f.select_one(
            "c09_hukou_prov",
            "province",
            T("户口登记省份", "Province of hukou registration"),
            check="${c_pos} != 1 or . = ${hukou_prov}",
            check_message=T(
                "本人户口省份须与筛查时一致",
                "The respondent's hukou province must match the screening",
            ),
        )
        f.select_one(
            "c10_live_now",
            "live_now",
            T("现居住地", "Where the member lives now"),
            check="${c_pos} != 1 or . = 1",
            check_message=T("被访者本人现居住在本地", "The respondent lives here"),
        )


def _migration(f: FormSpec) -> None:
    with f.group("d_mig", T("四、流动迁移", "D. Migration"), relevant=INTERVIEWED, field_list=True):
        f.integer(
            "d01_first_year",
            T(
                "您第一次离开户籍地（县级）外出是哪一年？",
                "In what year did you first leave your hukou county?",
            ),
            "${b02_birth_year}",
            "${b04_arr_year}",
            range_text=T(
                "出生年份至本次来本地的年份", "the birth year to the year you came here this time"
            ),
        )
        f.calculate(
            "d_range",
            "if(${b06_hukou_place} = 5, 1, if(${b06_hukou_place} = 4, 2, if(${b06_hukou_place} = 2, 3, '')))",
            label=T(
                "流动范围（1=跨省，2=省内跨市，3=市内跨县）",
                "Range of migration (1 cross-province, 2 cross-city, 3 cross-county)",
            ),
        )
        f.calculate(
            "d_years_here",
            "int(${b_months_here} div 12)",
            label=T("本次流入本地年数", "Years lived here this time"),
        )
        f.note(
            "d02_range_note",
            T(
                "流动范围代码：${d_range}（1=跨省，2=省内跨市，3=市内跨县）；本次来本地已${d_years_here}年。",
                "Range of migration: ${d_range} (1 cross-province, 2 cross-city, 3 cross-county); "
                "${d_years_here} years here this time.",
            ),
        )
        f.select_one(
            "d03_reason",
            "move_reason",
            T("您这次流动的主要原因是？", "What was the main reason for this move?"),
        )
        f.other_specify("d03_reason_oth", "d03_reason")
        f.select_one(
            "d04_stay",
            "stay",
            T(
                "今后一段时间，您是否打算继续留在本地？",
                "Do you intend to stay here for some time to come?",
            ),
        )
        f.select_one(
            "d05_stay_long",
            "stay_long",
            T("打算在本地留多久？", "How long do you intend to stay?"),
            relevant="${d04_stay} = 1",
        )
        f.select_one(
            "d06_hukou_move",
            "willing",
            T(
                "如果您符合本地落户条件，是否愿意把户口迁入本地？",
                "If you met the conditions, would you move your hukou here?",
            ),
        )


def _employment(f: FormSpec) -> None:
    worked = "${e01_worked} = 1"
    with f.group(
        "e_work",
        T("五、就业与收入", "E. Employment and income"),
        relevant=INTERVIEWED,
        field_list=True,
    ):
        f.select_one(
            "e01_worked",
            "yes_no",
            T(
                "调查前一周，您是否做过一小时以上有收入的工作？",
                "In the week before the interview, did you do at least one hour of paid work?",
            ),
        )
        f.select_one(
            "e02_why_not",
            "reason_no_work",
            T("没有工作的主要原因是？", "What is the main reason for not working?"),
            relevant="${e01_worked} = 2",
        )
        f.other_specify("e02_why_not_oth", "e02_why_not")
        f.select_one(
            "e03_occ",
            "occupation",
            T("您现在的主要职业是？", "What is your main occupation?"),
            relevant=worked,
        )
        f.other_specify("e03_occ_oth", "e03_occ")
        f.select_one(
            "e04_status",
            "emp_status",
            T("您现在的就业身份是？", "What is your employment status?"),
            relevant=worked,
        )
        f.other_specify("e04_status_oth", "e04_status")
        f.select_one(
            "e05_contract",
            "contract",
            T(
                "您与雇主签订了何种劳动合同？",
                "What labour contract do you have with your employer?",
            ),
            relevant=f"{worked} and ${{e04_status}} = 1",
        )
        f.integer(
            "e06_hours",
            T("上周您工作了多少小时？", "How many hours did you work last week?"),
            1,
            120,
            unit=T("小时", "hours"),
            relevant=worked,
        )
        f.integer(
            "e07_income",
            T(
                "上个月您个人的纯收入是多少元？",
                "What was your own net income last month, in yuan?",
            ),
            0,
            200000,
            unit=T("元", "yuan"),
            dont_know=True,
            refused=True,
            relevant=worked,
        )
        f.integer(
            "e08_hh_income",
            T(
                "过去一年，您家在本地平均每月总收入是多少元？",
                "In the past year, what was your family's average monthly income here, in yuan?",
            ),
            0,
            500000,
            unit=T("元", "yuan"),
            dont_know=True,
            refused=True,
            check="not(${e01_worked} = 1) or ${e07_income} >= 999998 or . >= ${e07_income}",
            check_message=T(
                "家庭月收入不能少于本人上月收入",
                "The family income cannot be below the respondent's own income",
            ),
        )
        f.integer(
            "e09_hh_spend",
            T(
                "过去一年，您家在本地平均每月总支出是多少元？",
                "In the past year, what were your family's average monthly expenses here, in yuan?",
            ),
            0,
            500000,
            unit=T("元", "yuan"),
            dont_know=True,
            refused=True,
        )
        f.integer(
            "e10_housing_spend",
            T(
                "其中，每月住房支出（房租或房贷）是多少元？",
                "Of which, monthly housing costs (rent or mortgage), in yuan?",
            ),
            0,
            100000,
            unit=T("元", "yuan"),
            dont_know=True,
            refused=True,
            width=6,
            check="${e09_hh_spend} >= 999998 or . <= ${e09_hh_spend}",
            check_message=T(
                "住房支出不能多于家庭总支出",
                "Housing costs cannot exceed the family's total expenses",
            ),
        )


def _housing_insurance(f: FormSpec) -> None:
    with f.group(
        "f_house",
        T("六、居住与社会保障", "F. Housing and social insurance"),
        relevant=INTERVIEWED,
        field_list=True,
    ):
        f.select_one(
            "f01_housing",
            "housing",
            T("您现在在本地的住房属于下列哪种性质？", "What kind of housing do you live in here?"),
        )
        f.other_specify("f01_housing_oth", "f01_housing")
        f.select_multiple(
            "f02_med_ins",
            "med_ins",
            T(
                "您目前参加了哪些医疗保险？（可多选）",
                "Which medical insurance do you have (all that apply)?",
            ),
        )
        f.other_specify("f02_med_ins_oth", "f02_med_ins", multiple=True)
        f.select_one(
            "f03_ins_place",
            "ins_place",
            T("您的医疗保险主要在哪里参保？", "Where is your medical insurance mainly registered?"),
            relevant=(
                "not(selected(${f02_med_ins}, '0')) and not(selected(${f02_med_ins}, '98')) "
                "and not(selected(${f02_med_ins}, '99'))"
            ),
        )
        f.select_one(
            "f04_pension",
            "yes_no",
            T("您是否参加了基本养老保险？", "Do you have basic pension insurance?"),
        )
        f.select_one(
            "f05_ss_card",
            "ss_card",
            T("您是否办理了个人社会保障卡？", "Do you have a social security card?"),
        )


def _public_health(f: FormSpec) -> None:
    with f.group(
        "g_health",
        T("七、基本公共卫生服务", "G. Basic public health services"),
        relevant=INTERVIEWED,
        field_list=True,
    ):
        f.select_one(
            "g01_record",
            "health_record",
            T("您是否在本地建立了居民健康档案？", "Do you have a resident health record here?"),
        )
        f.select_multiple(
            "g02_health_edu",
            "health_topics",
            T(
                "过去一年，您在本地接受过哪些方面的健康教育？（可多选）",
                "In the past year, which health education topics did you receive here (all that apply)?",
            ),
        )
        f.other_specify("g02_health_edu_oth", "g02_health_edu", multiple=True)
        f.select_one(
            "g03_family_doc",
            "family_doctor",
            T(
                "您是否在本地签约了家庭医生？",
                "Have you signed a contract with a family doctor here?",
            ),
        )


def _women(f: FormSpec) -> None:
    """Marriage, childbearing and family-planning services: women aged 15-49."""
    marital = "indexed-repeat(${c07_marital}, ${c_roster}, 1)"
    with f.group(
        "h_women",
        T(
            "八、婚育与计划生育服务（15-49岁女性）",
            "H. Marriage, childbearing and family planning (women 15-49)",
        ),
        relevant=WOMAN,
        field_list=True,
    ):
        f.calculate("h_marital", marital, label=T("被访者婚姻状况", "Respondent's marital status"))
        ever = "${h_marital} >= 2 and ${h_marital} <= 5"
        f.integer(
            "h00_mar_year",
            T("您第一次结婚是哪一年？", "In what year did you first marry?"),
            "${b02_birth_year} + 13",
            "${a_int_year}",
            range_text=T("13周岁那年至调查年份", "the year you turned 13 to the survey year"),
            relevant=ever,
        )
        f.integer(
            "h00_mar_month",
            T("哪一月？", "In what month?"),
            1,
            12,
            dont_know=True,
            relevant=ever,
            check=(
                f"(${{h00_mar_year}} - 1900) * 12 + . >= ${{b_cmc_birth}} + {13 * 12} and "
                "(${h00_mar_year} - 1900) * 12 + . <= ${a_cmc_int}"
            ),
            check_message=T(
                "初婚时间须在13周岁之后、调查时间之前",
                "First marriage must be after age 13 and not after the interview",
            ),
        )
        f.integer(
            "h01_n_live",
            T(
                "您一共生育过几个孩子？（活产，双胞胎按2个计算）",
                "How many children have you given birth to alive (twins count as 2)?",
            ),
            0,
            15,
            unit=T("个", "children"),
        )
        f.integer(
            "h02_n_since",
            T(
                "其中，这次来本地以后生育了几个？",
                "Of them, how many were born since you came here this time?",
            ),
            0,
            10,
            unit=T("个", "children"),
            check=". <= ${h01_n_live} and (. = 0 or ${b_months_here} >= 1)",
            check_message=T("不能多于生育的孩子总数", "It cannot exceed the children born in all"),
        )
        since = "${h02_n_since} >= 1"
        f.integer(
            "h03_last_year",
            T(
                "来本地以后最近一次生育是哪一年？",
                "In what year was your last birth since coming here?",
            ),
            "${b04_arr_year}",
            "${a_int_year}",
            range_text=T("来本地的年份至调查年份", "the year you came here to the survey year"),
            relevant=since,
        )
        f.integer(
            "h04_last_month",
            T("哪一月？", "In what month?"),
            1,
            12,
            relevant=since,
            check=(
                "(${h03_last_year} - 1900) * 12 + . >= ${b_cmc_arr} and "
                "(${h03_last_year} - 1900) * 12 + . <= ${a_cmc_int} and "
                "(${h03_last_year} - 1900) * 12 + . >= ${b_cmc_birth} + 144"
            ),
            check_message=T(
                "须在来本地之后、调查时间之前，且在母亲12周岁生日之后",
                "It must be after coming here, not after the interview, and after the mother's 12th birthday",
            ),
        )
        f.select_one(
            "h05_birth_place",
            "birth_place",
            T("这个孩子在哪里出生？", "Where was this child born?"),
            relevant=since,
        )
        union = f"({marital} = 2 or {marital} = 3 or {marital} = 6)"
        f.select_one(
            "h06_fp_use",
            "yes_no",
            T(
                "您和丈夫（伴侣）目前是否采取了避孕措施？",
                "Are you or your husband (partner) using contraception now?",
            ),
            relevant=union,
        )
        f.select_one(
            "h07_method",
            "contraceptive",
            T("目前主要采用哪种避孕方法？", "Which method do you mainly use?"),
            relevant="${h06_fp_use} = 1",
        )
        f.other_specify("h07_method_oth", "h07_method")
        f.select_multiple(
            "h08_services",
            "fp_services",
            T(
                "过去一年，您在本地获得过以下哪些计划生育或妇幼健康服务？（可多选）",
                "In the past year, which family-planning or maternal and child health services did you receive here (all that apply)?",
            ),
        )


STATEMENTS = (
    ("我喜欢我现在居住的城市（地方）", "I like the city (place) where I live now"),
    ("我关注我现在居住城市（地方）的变化", "I follow the changes in the city (place) where I live"),
    (
        "我很愿意融入本地人当中，成为其中一员",
        "I would like to fit in with the local people and be one of them",
    ),
    (
        "我觉得本地人愿意接受我成为其中一员",
        "I feel that local people are willing to accept me as one of them",
    ),
    ("我感觉本地人看不起外地人", "I feel that local people look down on outsiders"),
    ("按照老家的风俗习惯办事对我比较重要", "Following the customs of my home town matters to me"),
    (
        "我的卫生习惯与本地市民存在较大差别",
        "My hygiene habits differ a lot from those of local residents",
    ),
    ("我觉得我已经是本地人了", "I feel I am already a local"),
)


def _integration(f: FormSpec) -> None:
    with f.group(
        "i_integ",
        T(
            "九、社会融合：您是否同意下列说法？",
            "I. Social integration: do you agree with these statements?",
        ),
        relevant=INTERVIEWED,
        appearance="table-list",
    ):
        for number, (zh, en) in enumerate(STATEMENTS, start=1):
            f.select_one(f"i{number:02d}_agree", "agree4", T(zh, en))
