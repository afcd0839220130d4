"""Source of the bundled fertility survey questionnaire (women aged 15-60).

Modelled on China's 2017 national fertility sample survey: the sampled household is screened,
one woman aged 15-60 is selected at random, and she answers the individual questionnaire
(personal information, pregnancy and birth history, contraception, fertility intentions,
childbearing services, care for children under 3). ``build.py`` writes it to fertility.xlsx.
"""

# ruff: noqa: E501  (question texts are kept whole on one line, to read and grep them)

from __future__ import annotations

from forms.questionnaires import common
from forms.questionnaires.authoring import FormSpec, T

FORM_ID = "fertility"
VERSION = "2026110101"
MAX_AGE, MIN_AGE = 60, 15
INTERVIEWED = "${b07_sel_result} = 1"
BIRTH = "(d10_outcome = 1 or d10_outcome = 2)"
"""A row of the pregnancy history that ended in a birth (live or still)."""


def spec() -> FormSpec:
    """The fertility questionnaire as a :class:`FormSpec`."""
    f = FormSpec(
        FORM_ID,
        T("全国生育状况抽样调查", "National Fertility Sample Survey"),
        VERSION,
        "concat('F-', ${hhid}, '-', ${result})",
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
            "您好！我是国家卫生健康委员会全国生育状况抽样调查的调查员。本次调查了解育龄妇女的生育"
            "情况，您家是按科学方法随机抽中的样本户。所有回答严格保密，仅用于统计分析。请问您是否"
            "同意先回答几个关于家庭成员的问题？",
            "Hello! I am an interviewer for the National Fertility Sample Survey of the National "
            "Health Commission. The survey studies women's childbearing; your household was "
            "chosen at random by a scientific method. All answers are strictly confidential and "
            "used only for statistics. Do you agree to answer a few questions about the members "
            "of your household first?",
        ),
    )
    _screening(f)
    f.interview_started()
    _personal(f)
    _birth_history(f)
    _contraception(f)
    _intentions(f)
    _services(f)
    _childcare(f)
    common.closing(f, INTERVIEWED, _result_pairs())
    f.check_closed()
    return f


def _lists(f: FormSpec) -> None:
    f.choice_list(
        "rel_head",
        [
            (1, "户主", "Household head"),
            (2, "配偶", "Spouse"),
            (3, "子女", "Child"),
            (4, "儿媳或女婿", "Child-in-law"),
            (5, "孙子女", "Grandchild"),
            (6, "父母", "Parent"),
            (7, "公婆或岳父母", "Parent-in-law"),
            (8, "兄弟姐妹", "Sibling"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "sel_result",
        [
            (1, "在家，同意接受访问", "At home and agrees to be interviewed"),
            (2, "不在家，需约时间再访", "Not at home: make an appointment and revisit"),
            (3, "本人拒绝", "Refuses"),
            (4, "因病或残疾无法回答", "Cannot answer because of illness or disability"),
        ],
    )
    f.choice_list(
        "hukou_place_f",
        [
            (1, "本县（市、区）", "This county (city, district)"),
            (2, "本省其他县（市、区）", "Another county of this province"),
            (3, "外省", "Another province"),
            (4, "港澳台或国外", "Hong Kong, Macao, Taiwan or abroad"),
        ],
        missing=True,
    )
    f.choice_list(
        "preg_outcome",
        [
            (1, "活产", "Live birth"),
            (2, "死胎或死产", "Stillbirth"),
            (3, "自然流产", "Miscarriage"),
            (4, "人工流产或引产", "Induced abortion"),
        ],
    )
    f.choice_list(
        "multiplicity",
        [
            (1, "单胎", "Single birth"),
            (2, "双胞胎", "Twins"),
            (3, "三胞胎及以上", "Triplets or more"),
        ],
    )
    f.choice_list(
        "delivery_place",
        [
            (1, "县（区）级及以上医院", "Hospital at county (district) level or above"),
            (2, "妇幼保健院（所）", "Maternal and child health hospital"),
            (
                3,
                "乡镇卫生院或社区卫生服务中心",
                "Township health centre or community health centre",
            ),
            (4, "民营医院", "Private hospital"),
            (5, "家中", "At home"),
            (6, "途中", "On the way"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "confirm",
        [(1, "已与被访者逐项核对，一致", "Checked with the respondent item by item: consistent")],
    )
    f.choice_list(
        "fp_source",
        [
            (1, "计划生育服务站或妇幼保健机构", "Family planning service station or MCH facility"),
            (2, "医院", "Hospital"),
            (3, "乡镇卫生院或社区卫生服务中心", "Township or community health centre"),
            (4, "村卫生室或村（居）委会", "Village clinic or village (neighbourhood) committee"),
            (5, "药店或超市", "Pharmacy or shop"),
            (6, "免费药具发放机", "Free contraceptive dispenser"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "reason_no_fp",
        [
            (1, "想要孩子或正在备孕", "Wants a child or is trying to conceive"),
            (2, "已怀孕", "Pregnant"),
            (3, "绝经或子宫切除", "Menopausal or hysterectomy"),
            (4, "哺乳期", "Breastfeeding"),
            (5, "丈夫（伴侣）外出或分居", "Husband (partner) away or living apart"),
            (6, "担心副作用", "Worried about side effects"),
            (7, "不孕不育", "Infertile"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "plan_more",
        [(1, "打算", "Yes"), (2, "不打算", "No")],
        missing=True,
    )
    f.choice_list(
        "plan_when",
        [
            (1, "一年以内", "Within a year"),
            (2, "一到两年", "In 1-2 years"),
            (3, "两年以后", "In more than 2 years"),
        ],
        missing=True,
    )
    f.choice_list(
        "reason_want",
        [
            (1, "喜欢孩子", "Likes children"),
            (2, "希望儿女双全", "Wants both a son and a daughter"),
            (3, "给孩子作伴", "A companion for the existing child"),
            (4, "养老有保障", "Support in old age"),
            (5, "家人希望再生", "Family wants another child"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "reason_not_want",
        [
            (1, "经济负担重", "Economic burden"),
            (2, "没人带孩子", "No one to look after the child"),
            (3, "年龄太大", "Too old"),
            (4, "影响工作或事业", "Would hurt work or career"),
            (5, "身体原因", "Health reasons"),
            (6, "已有孩子数量满意", "Satisfied with the children already had"),
            (7, "住房条件差", "Poor housing"),
            (8, "子女教育费用高", "High cost of education"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "prepreg_check",
        [
            (1, "夫妻都做过", "Both spouses had it"),
            (2, "只有本人做过", "Only the respondent had it"),
            (3, "只有丈夫做过", "Only the husband had it"),
            (4, "都没有做过", "Neither had it"),
        ],
        missing=True,
    )
    f.choice_list(
        "carer",
        [
            (1, "本人", "Respondent herself"),
            (2, "孩子父亲", "The child's father"),
            (3, "祖父母或外祖父母", "Grandparents"),
            (4, "其他亲属", "Other relatives"),
            (5, "保姆或育儿嫂", "Nanny"),
            (6, "托育机构", "Childcare centre"),
        ],
        other=True,
        missing=True,
    )
    f.choice_list(
        "nursery",
        [
            (1, "是", "Yes"),
            (2, "否，但想送", "No, but would like to"),
            (3, "否，也不想送", "No, and would not"),
        ],
        missing=True,
    )
    f.choice_list(
        "reason_no_nursery",
        [
            (1, "附近没有托育机构", "No childcare centre nearby"),
            (2, "费用太高", "Too expensive"),
            (3, "不放心质量", "Worried about quality"),
            (4, "接送不方便", "Inconvenient to take the child there"),
            (5, "孩子年龄不符合收托要求", "The child is too young to be admitted"),
        ],
        other=True,
        missing=True,
    )


def _screening(f: FormSpec) -> None:
    """Household screening and random selection of one woman aged 15-60."""
    with f.group(
        "b_screen",
        T("二、住户筛选", "B. Household screening"),
        relevant="${a07_consent} = 1",
        field_list=True,
    ):
        f.integer(
            "b01_hh_size",
            T("您家现在一共住着几口人？", "How many people live in this household now?"),
            1,
            30,
            hint=T(
                "包括外出不满半年的家庭成员，不包括来访的客人。",
                "Include members away for less than six months; exclude visitors.",
            ),
            unit=T("人", "people"),
        )
        f.integer(
            "b02_n_women",
            T(
                f"其中，{MIN_AGE}至{MAX_AGE}周岁的女性有几位？",
                f"How many of them are women aged {MIN_AGE} to {MAX_AGE}?",
            ),
            0,
            15,
            unit=T("人", "people"),
            check="${b02_n_women} <= ${b01_hh_size}",
            check_message=T("不能多于家庭总人数", "It cannot exceed the household size"),
        )
        f.note(
            "b03_none_note",
            T(
                "本户没有符合条件的妇女，访问到此结束。",
                "No eligible woman in this household: the visit ends here.",
            ),
            relevant="${b02_n_women} = 0",
        )
    f.calculate(
        "n_elig",
        "${b02_n_women}",
        label=T("户内符合条件的妇女数", "Eligible women in the household"),
    )
    with f.repeat(
        "b_women",
        T("符合条件的妇女", "Eligible women"),
        count="${b02_n_women}",
        relevant="${b02_n_women} > 0",
    ):
        f.calculate("b_w_pos", "position(..)", label=T("妇女序号", "Line number of the woman"))
        f.text(
            "b04_w_name",
            T(
                "第${b_w_pos}位妇女的姓名（或称呼）",
                "Name (or the name she goes by) of woman no. ${b_w_pos}",
            ),
            pii=True,
        )
        f.integer(
            "b05_w_age",
            T("她今年多大（周岁）？", "How old is she (completed years)?"),
            MIN_AGE,
            MAX_AGE,
            unit=T("岁", "years"),
        )
        f.select_one(
            "b06_w_rel", "rel_head", T("她与户主的关系", "Her relationship to the household head")
        )
    with f.group(
        "b_select",
        T("抽选被访妇女", "Selecting the respondent"),
        relevant="${b02_n_women} > 0",
        field_list=True,
    ):
        f.calculate("b_rand", "once(random())", label=T("抽选随机数", "Selection random number"))
        f.calculate(
            "b_pick",
            "int(${b_rand} * ${b02_n_women}) + 1",
            label=T("被抽中妇女的序号", "Line number of the selected woman"),
        )
        f.calculate(
            "b_sel_name",
            "indexed-repeat(${b04_w_name}, ${b_women}, ${b_pick})",
            label=T("被抽中妇女的姓名", "Name of the selected woman"),
            pii=True,
        )
        f.calculate(
            "b_sel_age",
            "indexed-repeat(${b05_w_age}, ${b_women}, ${b_pick})",
            label=T(
                "被抽中妇女的年龄（户内登记）", "Age of the selected woman (household listing)"
            ),
        )
        f.note(
            "b07_sel_note",
            T(
                "按随机抽选结果，本户应访问第${b_pick}位：${b_sel_name}（${b_sel_age}岁）。只能访问这位妇女，不得替换。",
                "The random selection chose woman no. ${b_pick}: ${b_sel_name} (${b_sel_age}). "
                "Interview only her; never replace her with another woman.",
            ),
        )
        f.select_one(
            "b07_sel_result",
            "sel_result",
            T(
                "${b_sel_name}是否在家并同意接受访问？",
                "Is ${b_sel_name} at home and does she agree to be interviewed?",
            ),
        )


def _cmc(year: str, month: str) -> str:
    """CMC of a year and month, month 98 (don't know) imputed as June."""
    return f"(${{{year}}} - 1900) * 12 + if(${{{month}}} = 98, 6, ${{{month}}})"


def _personal(f: FormSpec) -> None:
    with f.group("c_pers", T("三、个人基本情况", "C. Personal information"), relevant=INTERVIEWED):
        with f.group("c_birth", T("出生与年龄", "Birth and age"), field_list=True):
            f.integer(
                "c01_birth_year",
                T("您是哪一年出生的？（公历）", "In what year were you born (Gregorian calendar)?"),
                f"${{a_int_year}} - {MAX_AGE + 1}",
                f"${{a_int_year}} - {MIN_AGE}",
                range_text=T(
                    f"调查年份前{MAX_AGE + 1}年至前{MIN_AGE}年",
                    f"{MAX_AGE + 1} to {MIN_AGE} years before the survey year",
                ),
            )
            f.integer(
                "c02_birth_month",
                T("哪一月出生？（公历）", "In what month (Gregorian calendar)?"),
                1,
                12,
            )
            f.calculate(
                "c_cmc_birth",
                "(${c01_birth_year} - 1900) * 12 + ${c02_birth_month}",
                label=T("出生世纪月编码", "Birth date as century-month code"),
            )
            f.calculate(
                "c_age_calc",
                "int((${a_cmc_int} - ${c_cmc_birth}) div 12)",
                label=T("按出生年月推算的周岁", "Age computed from the birth year and month"),
            )
            f.integer(
                "c03_age",
                T("您今年多大（周岁）？", "How old are you (completed years)?"),
                MIN_AGE,
                MAX_AGE,
                unit=T("岁", "years"),
                check="${c03_age} = ${c_age_calc} or (${c02_birth_month} = ${a_int_month} and ${c03_age} = ${c_age_calc} - 1)",
                check_message=T(
                    "与出生年月推算的周岁（${c_age_calc}岁）不一致，请核对",
                    "It does not match the age computed from the birth year and month (${c_age_calc}); check both",
                ),
            )
        with f.group(
            "c_bg", T("教育、民族与户口", "Education, ethnicity and hukou"), field_list=True
        ):
            f.select_one(
                "c04_edu",
                "education",
                T("您的最高学历是？", "What is the highest level of education you completed?"),
            )
            f.select_one("c05_ethnic", "ethnicity", T("您的民族是？", "What is your ethnic group?"))
            f.other_specify("c05_ethnic_oth", "c05_ethnic")
            f.select_one(
                "c06_hukou_type",
                "hukou_type",
                T("您的户口性质是？", "What type of hukou do you have?"),
            )
            f.other_specify("c06_hukou_oth", "c06_hukou_type")
            f.select_one(
                "c07_hukou_place",
                "hukou_place_f",
                T("您的户口登记在哪里？", "Where is your hukou registered?"),
            )
            f.select_one(
                "c08_hukou_prov",
                "province",
                T("户口登记在哪个省份？", "In which province is it registered?"),
                relevant="${c07_hukou_place} = 3",
                check=". != ${province}",
                check_message=T(
                    "外省户口不能选择本省", "A hukou in another province cannot be this province"
                ),
            )
        with f.group("c_mar", T("婚姻", "Marriage"), field_list=True):
            f.select_one(
                "c09_marital",
                "marital",
                T("您目前的婚姻状况是？", "What is your current marital status?"),
            )
            ever = "${c09_marital} >= 2 and ${c09_marital} <= 5"
            f.integer(
                "c10_mar_year",
                T("您第一次结婚是哪一年？", "In what year did you first marry?"),
                "${c01_birth_year} + 13",
                "${a_int_year}",
                range_text=T("13周岁那年至调查年份", "the year you turned 13 to the survey year"),
                relevant=ever,
            )
            f.integer(
                "c11_mar_month",
                T("哪一月？", "In what month?"),
                1,
                12,
                dont_know=True,
                relevant=ever,
                check=f"(${{c10_mar_year}} - 1900) * 12 + . >= ${{c_cmc_birth}} + {13 * 12} and (${{c10_mar_year}} - 1900) * 12 + . <= ${{a_cmc_int}}",
                check_message=T(
                    "初婚时间须在13周岁之后、调查时间之前",
                    "First marriage must be after age 13 and not after the interview",
                ),
            )


def _birth_history(f: FormSpec) -> None:
    """Counts of pregnancy outcomes, then one row per outcome (each twin its own row)."""
    ever = "${d01_ever_preg} = 1"
    with f.group(
        "d_counts",
        T("四、怀孕和生育史", "D. Pregnancy and birth history"),
        relevant=INTERVIEWED,
        field_list=True,
    ):
        f.select_one(
            "d01_ever_preg",
            "yes_no",
            T("您是否怀过孕？（包括现在正怀孕）", "Have you ever been pregnant (including now)?"),
        )
        f.select_one(
            "d02_preg_now", "yes_no", T("您现在是否怀孕？", "Are you pregnant now?"), relevant=ever
        )
        f.integer(
            "d03_n_live",
            T(
                "您一共生育过几个活产子女？（双胞胎按2个计算）",
                "How many children have you given birth to alive (count twins as 2)?",
            ),
            0,
            15,
            unit=T("个", "children"),
            relevant=ever,
        )
        f.integer(
            "d04_n_sons",
            T("其中，儿子几个？", "Of them, how many sons?"),
            0,
            15,
            relevant=ever,
            check=". <= ${d03_n_live}",
            check_message=T("不能多于活产子女数", "It cannot exceed the live births"),
        )
        f.integer(
            "d05_n_daus",
            T("女儿几个？", "How many daughters?"),
            0,
            15,
            relevant=ever,
            check="${d04_n_sons} + . = ${d03_n_live}",
            check_message=T(
                "儿子数加女儿数须等于活产子女数", "Sons plus daughters must equal the live births"
            ),
        )
        f.integer(
            "d06_n_still", T("死胎或死产几次？", "How many stillbirths?"), 0, 10, relevant=ever
        )
        f.integer("d07_n_misc", T("自然流产几次？", "How many miscarriages?"), 0, 20, relevant=ever)
        f.integer(
            "d08_n_induced",
            T("人工流产或引产几次？", "How many induced abortions?"),
            0,
            20,
            relevant=ever,
            refused=True,
            check="${d03_n_live} + ${d06_n_still} + ${d07_n_misc} + . > 0 or ${d02_preg_now} = 1",
            check_message=T(
                "怀过孕但没有任何妊娠结局且现在未怀孕，请核对",
                "Ever pregnant but no pregnancy outcome and not pregnant now: check",
            ),
        )
    f.calculate(
        "d_n_rows",
        "if(${d01_ever_preg} = 1 and ${d08_n_induced} != 99, "
        "${d03_n_live} + ${d06_n_still} + ${d07_n_misc} + ${d08_n_induced}, "
        "if(${d01_ever_preg} = 1, ${d03_n_live} + ${d06_n_still} + ${d07_n_misc}, 0))",
        label=T("怀孕史行数", "Rows of the pregnancy history"),
    )
    with f.repeat(
        "d_hist",
        T(
            "妊娠结局（按时间顺序，从第一次开始）",
            "Pregnancy outcomes (in order, starting with the first)",
        ),
        count="${d_n_rows}",
        relevant=f"{INTERVIEWED} and ${{d_n_rows}} > 0",
    ):
        f.calculate("d_row", "position(..)", label=T("行号", "Row number"))
        f.select_one(
            "d10_outcome",
            "preg_outcome",
            T("第${d_row}行：这次妊娠的结局", "Row ${d_row}: outcome of this pregnancy"),
            hint=T(
                "双胞胎或多胞胎每个孩子各填一行。", "Give each twin or triplet a row of its own."
            ),
            check="${d08_n_induced} != 99 or . != 4",
            check_message=T(
                "人工流产次数拒答时，此处不登记人工流产",
                "Induced abortions were refused above: do not list them here",
            ),
        )
        f.integer(
            "d11_year",
            T(
                "妊娠结束（出生）是哪一年？",
                "In what year did the pregnancy end (the child was born)?",
            ),
            "${c01_birth_year} + 12",
            "${a_int_year}",
            range_text=T(
                "母亲12周岁那年至调查年份", "the year the mother turned 12 to the survey year"
            ),
        )
        f.integer(
            "d12_month",
            T("哪一月？", "In what month?"),
            1,
            12,
            dont_know=True,
            sentinels_if="${d10_outcome} >= 3",
            check=f"(${{d11_year}} - 1900) * 12 + . >= ${{c_cmc_birth}} + {12 * 12} and (${{d11_year}} - 1900) * 12 + . <= ${{a_cmc_int}}",
            check_message=T(
                "须在母亲12周岁生日之后、调查时间之前（出生的孩子必须填写月份）",
                "It must be after the mother's 12th birthday and not after the interview (a birth needs its month)",
            ),
        )
        f.calculate(
            "d_cmc",
            _cmc("d11_year", "d12_month"),
            label=T("妊娠结束的世纪月编码", "End of pregnancy as century-month code"),
        )
        f.select_one(
            "d13_mult",
            "multiplicity",
            T("这一胎是单胎还是多胞胎？", "Was this a single or a multiple birth?"),
            relevant="${d10_outcome} = 1 or ${d10_outcome} = 2",
            check=(
                f"count(../../d_hist[{BIRTH} and d_cmc != current()/../d_cmc and "
                "d_cmc > current()/../d_cmc - 8 and d_cmc < current()/../d_cmc + 8]) = 0 and "
                f"(. > 1 or count(../../d_hist[{BIRTH} and d_cmc = current()/../d_cmc]) = 1)"
            ),
            check_message=T(
                "两次分娩至少相隔8个月；同年同月的分娩只能是双胞胎或多胞胎，请核对出生年月",
                "Births must be at least 8 months apart; births in the same month must be twins or "
                "triplets: check the years and months",
            ),
        )
        f.calculate(
            "d_mult_ok",
            f"if(${{d13_mult}} = 2 and count(../../d_hist[{BIRTH} and d_cmc = current()/../d_cmc]) != 2, 0, "
            f"if(${{d13_mult}} = 3 and count(../../d_hist[{BIRTH} and d_cmc = current()/../d_cmc]) < 3, 0, 1))",
            label=T("多胞胎行数是否正确（1=是）", "Multiple birth has one row per child (1 = yes)"),
        )
        f.calculate(
            "d_order",
            "if(${d10_outcome} = 1, count(../../d_hist[d10_outcome = 1 and d_cmc < current()/../d_cmc]) + "
            "count(../../d_hist[d10_outcome = 1 and d_cmc = current()/../d_cmc and d_row < current()/../d_row]) + 1, '')",
            label=T("活产孩次", "Birth order among live births"),
        )
        live = "${d10_outcome} = 1"
        f.select_one(
            "d14_sex",
            "sex",
            T("这个孩子（第${d_order}孩）的性别", "Sex of this child (live birth no. ${d_order})"),
            relevant=live,
        )
        f.select_one(
            "d15_alive",
            "yes_no",
            T("这个孩子现在是否还活着？", "Is this child still alive?"),
            relevant=live,
        )
        dead = "${d10_outcome} = 1 and ${d15_alive} = 2"
        f.integer(
            "d16_death_age",
            T(
                "孩子去世时几周岁？（不满1岁填0）",
                "How old was the child at death, in completed years (0 if under 1)?",
            ),
            0,
            80,
            unit=T("岁", "years"),
            relevant=dead,
            check="${d_cmc} + 12 * . <= ${a_cmc_int}",
            check_message=T("去世时间不能晚于调查时间", "The death cannot be after the interview"),
        )
        f.integer(
            "d17_death_mon",
            T("去世时几个月？（不满1个月填0）", "How many months old (0 if under one month)?"),
            0,
            11,
            unit=T("个月", "months"),
            relevant=f"{dead} and ${{d16_death_age}} = 0",
            check="${d_cmc} + . <= ${a_cmc_int}",
            check_message=T("去世时间不能晚于调查时间", "The death cannot be after the interview"),
        )
        f.select_one(
            "d18_place",
            "delivery_place",
            T("在哪里分娩？", "Where did the delivery take place?"),
            relevant="${d10_outcome} = 1 or ${d10_outcome} = 2",
        )
        f.other_specify("d18_place_oth", "d18_place")
    _history_check(f)


def _history_check(f: FormSpec) -> None:
    counts = {
        "d_h_live": ("d10_outcome = 1", T("怀孕史中的活产数", "Live births in the history")),
        "d_h_sons": (
            "d10_outcome = 1 and d14_sex = 1",
            T("怀孕史中的儿子数", "Sons in the history"),
        ),
        "d_h_daus": (
            "d10_outcome = 1 and d14_sex = 2",
            T("怀孕史中的女儿数", "Daughters in the history"),
        ),
        "d_h_still": ("d10_outcome = 2", T("怀孕史中的死胎死产数", "Stillbirths in the history")),
        "d_h_misc": ("d10_outcome = 3", T("怀孕史中的自然流产数", "Miscarriages in the history")),
        "d_h_induced": (
            "d10_outcome = 4",
            T("怀孕史中的人工流产数", "Induced abortions in the history"),
        ),
    }
    for name, (test, label) in counts.items():
        f.calculate(name, f"count(${{d_hist}}[{test}])", label=label)
    f.calculate(
        "d_last_cmc",
        "if(${d_h_live} > 0, max(${d_hist}[d10_outcome = 1]/d_cmc), 0)",
        label=T("最近一次活产的世纪月编码", "Last live birth as century-month code"),
    )
    f.calculate(
        "d_n_under3",
        "count(${d_hist}[d10_outcome = 1 and d15_alive = 1 and d_cmc > ${a_cmc_int} - 36])",
        label=T("存活的3岁以下子女数", "Living children under 3"),
    )
    f.select_one(
        "d19_hist_ok",
        "confirm",
        T(
            "请与被访者核对：活产${d_h_live}个（儿子${d_h_sons}个，女儿${d_h_daus}个），死胎死产${d_h_still}次，"
            "自然流产${d_h_misc}次，人工流产${d_h_induced}次。",
            "Check with the respondent: ${d_h_live} live births (${d_h_sons} sons, ${d_h_daus} "
            "daughters), ${d_h_still} stillbirths, ${d_h_misc} miscarriages, ${d_h_induced} "
            "induced abortions.",
        ),
        relevant=f"{INTERVIEWED} and ${{d_n_rows}} > 0",
        check=(
            "${d_h_live} = ${d03_n_live} and ${d_h_sons} = ${d04_n_sons} and "
            "${d_h_daus} = ${d05_n_daus} and ${d_h_still} = ${d06_n_still} and "
            "${d_h_misc} = ${d07_n_misc} and (${d08_n_induced} = 99 or ${d_h_induced} = ${d08_n_induced}) and "
            "count(${d_hist}[d_mult_ok = 0]) = 0"
        ),
        check_message=T(
            "怀孕史各行与前面报告的活产（儿子、女儿）、死产、流产次数不一致，或双胞胎的行数不对，请返回核对",
            "The history rows do not agree with the numbers of live births (sons, daughters), "
            "stillbirths and abortions stated before, or twins do not have one row each: go back and check",
        ),
    )


def _contraception(f: FormSpec) -> None:
    union = "(${c09_marital} = 2 or ${c09_marital} = 3 or ${c09_marital} = 6)"
    with f.group(
        "e_fp",
        T("五、避孕节育", "E. Contraception"),
        relevant=f"{INTERVIEWED} and {union}",
        field_list=True,
    ):
        f.select_one(
            "e01_use",
            "yes_no",
            T(
                "您和丈夫（伴侣）目前是否采取了避孕措施？",
                "Are you or your husband (partner) currently using a contraceptive method?",
            ),
            check="not(${d02_preg_now} = 1 and . = 1)",
            check_message=T(
                "被访者正在怀孕，不应在避孕",
                "The respondent is pregnant, so she cannot be using contraception",
            ),
        )
        f.select_one(
            "e02_method",
            "contraceptive",
            T("目前主要采用哪种避孕方法？", "Which method do you mainly use?"),
            relevant="${e01_use} = 1",
        )
        f.other_specify("e02_method_oth", "e02_method")
        f.select_one(
            "e03_source",
            "fp_source",
            T("这种避孕方法（药具）主要从哪里获得？", "Where did you mainly get this method?"),
            relevant="${e01_use} = 1 and ${e02_method} != 9 and ${e02_method} != 98 and ${e02_method} != 99",
        )
        f.other_specify("e03_source_oth", "e03_source")
        f.select_one(
            "e04_why_not",
            "reason_no_fp",
            T("目前没有避孕的主要原因是？", "What is the main reason for not using contraception?"),
            relevant="${e01_use} = 2",
        )
        f.other_specify("e04_why_not_oth", "e04_why_not")


def _intentions(f: FormSpec) -> None:
    with f.group(
        "f_int", T("六、生育意愿", "F. Fertility intentions"), relevant=INTERVIEWED, field_list=True
    ):
        f.integer(
            "f01_ideal",
            T(
                "您认为一个家庭最理想的孩子数是几个？",
                "What do you think is the ideal number of children for a family?",
            ),
            0,
            10,
            unit=T("个", "children"),
            dont_know=True,
        )
        f.integer(
            "f02_intend",
            T(
                "您打算一共生几个孩子？（包括已经生育的）",
                "How many children do you intend to have in all (including those you have)?",
            ),
            0,
            10,
            unit=T("个", "children"),
            dont_know=True,
            check=". >= coalesce(${d03_n_live}, 0)",
            check_message=T(
                "打算生育的总数不能少于已生育的活产子女数",
                "The intended number cannot be below the live births already had",
            ),
        )
        sterilised = "${e02_method} = 1 or ${e02_method} = 2"
        f.select_one(
            "f03_plan",
            "plan_more",
            T("您是否打算再生一个孩子？", "Do you plan to have another child?"),
            relevant=f"${{c03_age}} <= 49 and not({sterilised})",
        )
        f.select_one(
            "f04_when",
            "plan_when",
            T("打算什么时候生？", "When do you plan to have it?"),
            relevant="${f03_plan} = 1",
        )
        f.select_multiple(
            "f05_why_want",
            "reason_want",
            T("打算再生的原因（可多选）", "Reasons for wanting another child (all that apply)"),
            relevant="${f03_plan} = 1",
        )
        f.other_specify("f05_why_want_oth", "f05_why_want", multiple=True)
        f.select_multiple(
            "f06_why_not",
            "reason_not_want",
            T(
                "不打算再生的原因（可多选）",
                "Reasons for not wanting another child (all that apply)",
            ),
            relevant="${f03_plan} = 2",
        )
        f.other_specify("f06_why_not_oth", "f06_why_not", multiple=True)


def _services(f: FormSpec) -> None:
    recent = "${d_last_cmc} > ${a_cmc_int} - 60"
    with f.group(
        "g_svc",
        T("七、婚育服务", "G. Marriage and childbearing services"),
        relevant=INTERVIEWED,
        field_list=True,
    ):
        f.select_one(
            "g01_premarital",
            "yes_no",
            T(
                "您结婚前是否做过婚前医学检查？",
                "Did you have a premarital medical check before marrying?",
            ),
            relevant="${c09_marital} >= 2 and ${c09_marital} <= 5",
        )
        f.note(
            "g02_recent_note",
            T(
                "以下问题询问最近一次生育（近5年内）的情况。",
                "The next questions are about the last birth (in the last 5 years).",
            ),
            relevant=recent,
        )
        f.select_one(
            "g03_prepreg",
            "prepreg_check",
            T(
                "怀这个孩子之前，您和丈夫是否做过免费孕前优生健康检查？",
                "Before that pregnancy, did you and your husband have the free pre-pregnancy eugenic health check?",
            ),
            relevant=recent,
        )
        f.select_one(
            "g04_folic",
            "yes_no",
            T(
                "怀孕前3个月至怀孕后3个月，您是否服用过叶酸？",
                "From 3 months before to 3 months after conception, did you take folic acid?",
            ),
            relevant=recent,
        )
        f.select_one(
            "g05_folic_ok",
            "yes_no",
            T("是否按医生要求每天服用？", "Did you take it every day as advised?"),
            relevant="${g04_folic} = 1",
        )
        f.integer(
            "g06_anc_n",
            T(
                "这次怀孕一共做过几次产前检查？",
                "How many antenatal check-ups did you have in that pregnancy?",
            ),
            0,
            30,
            unit=T("次", "visits"),
            dont_know=True,
            relevant=recent,
        )
        f.integer(
            "g07_anc_month",
            T(
                "第一次产前检查时怀孕几个月？",
                "In which month of pregnancy was the first check-up?",
            ),
            1,
            10,
            unit=T("个月", "months"),
            dont_know=True,
            width=2,
            relevant="${g06_anc_n} >= 1 and ${g06_anc_n} <= 30",
        )
        f.select_one(
            "g08_postnatal",
            "yes_no",
            T(
                "产后28天内是否有医务人员进行产后访视？",
                "Did a health worker visit you within 28 days after the birth?",
            ),
            relevant=recent,
        )


def _childcare(f: FormSpec) -> None:
    with f.group(
        "h_care",
        T("八、3岁以下婴幼儿照护", "H. Care for children under 3"),
        relevant=f"{INTERVIEWED} and ${{d_n_under3}} > 0",
        field_list=True,
    ):
        f.select_one(
            "h01_carer",
            "carer",
            T(
                "白天主要由谁照料您最小的孩子？",
                "Who mainly looks after your youngest child during the day?",
            ),
        )
        f.other_specify("h01_carer_oth", "h01_carer")
        f.select_one(
            "h02_nursery",
            "nursery",
            T(
                "孩子目前是否在托育机构（托儿所、托育中心等）？",
                "Does the child attend a childcare centre (nursery, day-care centre)?",
            ),
        )
        f.integer(
            "h03_fee",
            T("每月托育费用大约多少元？", "About how much is the monthly childcare fee, in yuan?"),
            0,
            20000,
            unit=T("元", "yuan"),
            dont_know=True,
            refused=True,
            width=5,
            relevant="${h02_nursery} = 1",
        )
        f.select_multiple(
            "h04_why_not",
            "reason_no_nursery",
            T("没有送托的原因（可多选）", "Why is the child not in childcare (all that apply)?"),
            relevant="${h02_nursery} = 2",
        )
        f.other_specify("h04_why_not_oth", "h04_why_not", multiple=True)


def _result_pairs() -> list[tuple[str, str]]:
    revisit = f"if(${{a04_visit_no}} >= {common.NO_ONE_HOME_VISITS}, 8, 11)"
    return [
        *common.visit_result_prefix(),
        ("${b02_n_women} = 0", "7"),
        ("${b07_sel_result} = 2", revisit),
        ("${b07_sel_result} = 3", "4"),
        ("${b07_sel_result} = 4", "8"),
    ]
