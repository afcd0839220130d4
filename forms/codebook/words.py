"""The codebook's own words (headings, field names, explanations) in English and Chinese.

A codebook in a Chinese language (``zh``, ``zh-CN``, ``中文 (zh)``...) is written wholly in
Chinese; every other language gets English around the form's own texts. XLSForm names,
types and expressions are never translated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from forms.model import language_code

ENGLISH: Mapping[str, str] = {
    # page structure
    "codebook": "Codebook",
    "datasets": "Datasets",
    "dataset": "Dataset",
    "one_row_is": "One row is",
    "variables_heading": "Variables",
    "variable": "Variable",
    "type": "Type",
    "question": "Question",
    "repeat": "Repeat",
    "questionnaire": "Questionnaire",
    "group_kind": "Group",
    "repeat_kind": "Repeat",
    "asked_only_if": "Asked only if",
    "code": "Code",
    "label": "Label",
    "flag_pii": "PII",
    "flag_metadata": "metadata",
    "flag_repeat": "repeat {name}",
    # header
    "form_id": "Form ID",
    "title": "Title",
    "version": "Version",
    "not_set": "(not set)",
    "languages": "Languages",
    "no_languages": "none declared (labels without ::language)",
    "default_language": "default",
    "used_here": "used here",
    "instance_name": "Instance name",
    "source": "Source file",
    "variables": "Variables",
    "repeats": "Repeats",
    "pii_variables": "PII variables",
    "entity_list": "Entity list",
    # datasets and repeats
    "row_per_submission": "one row per submission (interview)",
    "row_per_label": "one row per “{label}”",
    "row_per_entry": "one row per repeat entry",
    "linked_to_repeat": ", linked to its row of repeat {parent}",
    "linked_to_root": ", linked to its submission in {root}",
    "row_count": "; number of rows: {count}",
    "in_repeat": "in repeat {name} ({text})",
    # variable details
    "export_columns": "Export columns",
    "store_columns": "Store frame columns",
    "values": "Values",
    "hint": "Hint",
    "guidance": "Guidance",
    "choices": "Choices",
    "relevance": "Relevance",
    "relevance_of": "Relevance of {name}",
    "constraint": "Constraint",
    "constraint_message": "Constraint message",
    "required": "Required",
    "required_message": "Required message",
    "required_yes": "yes",
    "required_when": "when {expression}",
    "calculation": "Calculation",
    "default": "Default",
    "read_only": "Read only",
    "choice_filter": "Choice filter",
    "appearance": "Appearance",
    "parameters": "Parameters",
    "trigger": "Trigger",
    "save_to": "Saved to entity property",
    "inside": "Inside",
    "xpath": "XPath",
    # question texts when there is no label
    "calculated": "(calculated, not asked)",
    "external_data": "(external data set {name} attached to the form)",
    "no_label": "(no label)",
    "from_language": "{text} [{language}]",
    # choices
    "from_repeat": "the answers to {name}{where} (the value stored is the chosen answer's text)",
    "from_repeat_where": " in repeat {repeat}",
    "from_file": "from the attached file {file} (code column '{value}', label column '{label}')",
    "list": "list {name}",
    "list_external": "list {name} in the external_choices sheet",
    "list_undefined": "list {name} (not defined in this form)",
    "list_search": "{list}, filled at run time from the attached file {file}.csv by search()",
    "search_columns": " (code column '{value}', label column '{label}')",
    "other_label": "Other",
    # notes
    "note_multiple": (
        "Several answers: exported as the space-separated string {name} plus one 0/1 column "
        "per choice ({columns})."
    ),
    "note_string": "Exported as one space-separated string in {name}.",
    "note_geo": "Exported split into {columns}.",
    "note_or_other": (
        "'or_other': code 'other' (Other) is added to the list, and the text variable "
        "{name}_other (“Specify other.”) is asked when it is chosen."
    ),
    "note_or_other_multiple": (
        "'or_other': code 'other' (Other) is added to the list, and the text variable "
        "{name}_other (“Specify other.”) is asked when it is chosen; {name}_other is not "
        "empty exactly when 'other' was chosen."
    ),
    "note_metadata": "Metadata: recorded by ODK Collect, not asked.",
    "note_pii": "PII: identifies a person; remove or mask before sharing the data.",
    "note_no_data": "Holds no data.",
    # what the values are
    "single_choice": "single choice",
    "several_choices": "several choices",
    "ranking": "ranking (an ordering of the choices)",
    "text": "text",
    "type_integer": "integer",
    "type_decimal": "decimal",
    "type_range": "range (number on a slider)",
    "type_note": "note (shows text, holds no data)",
    "type_acknowledge": "acknowledge ('OK' or empty)",
    "type_calculate": "calculated (not asked)",
    "type_hidden": "hidden value (not asked)",
    "type_geopoint": "GPS point (latitude longitude altitude accuracy)",
    "type_geotrace": "GPS line (points separated by ';')",
    "type_geoshape": "GPS polygon (points separated by ';')",
    "type_date": "date",
    "type_datetime": "date and time",
    "type_time": "time of day",
    "type_attachment": "{kind} (file name of an attachment)",
    "type_barcode": "barcode (text)",
    "type_external": "external data set (no data)",
    "type_osm": "OpenStreetMap feature",
    "type_audit": "audit log (attachment audit.csv)",
    # metadata without a label
    "meta_start": "Date and time the interview started (recorded automatically)",
    "meta_end": "Date and time the interview was last saved (recorded automatically)",
    "meta_today": "Date of the interview (recorded automatically)",
    "meta_deviceid": "Device ID of the tablet or phone (recorded automatically)",
    "meta_username": "User name set in ODK Collect: the enumerator (recorded automatically)",
    "meta_phonenumber": "Phone number of the device (recorded automatically)",
    "meta_subscriberid": "SIM subscriber ID (recorded automatically)",
    "meta_simserial": "SIM serial number (recorded automatically)",
    "meta_email": "E-mail address of the user (recorded automatically)",
    "meta_audit": "Audit log of the interview: the attachment audit.csv (recorded automatically)",
    "meta_start-geopoint": "Location where the interview started (recorded automatically)",
    "meta_background-audio": "Audio recording of the interview (recorded automatically)",
    "meta_background-geopoint": "Location recorded when the trigger question is answered",
}

CHINESE: Mapping[str, str] = {
    "codebook": "编码手册",
    "datasets": "数据集",
    "dataset": "数据集",
    "one_row_is": "每行代表",
    "variables_heading": "变量一览",
    "variable": "变量",
    "type": "类型",
    "question": "问题",
    "repeat": "循环组",
    "questionnaire": "问卷",
    "group_kind": "分组",
    "repeat_kind": "循环组",
    "asked_only_if": "仅在以下条件成立时询问",
    "code": "代码",
    "label": "标签",
    "flag_pii": "个人身份信息",
    "flag_metadata": "元数据",
    "flag_repeat": "循环组 {name}",
    "form_id": "表单 ID",
    "title": "标题",
    "version": "版本",
    "not_set": "（未设置）",
    "languages": "语言",
    "no_languages": "未声明（标签列没有 ::语言）",
    "default_language": "默认",
    "used_here": "本手册所用",
    "instance_name": "实例名称",
    "source": "来源文件",
    "variables": "变量数",
    "repeats": "循环组数",
    "pii_variables": "个人身份信息变量",
    "entity_list": "实体列表",
    "row_per_submission": "每份提交（每次访问）一行",
    "row_per_label": "每个“{label}”一行",
    "row_per_entry": "每个循环条目一行",
    "linked_to_repeat": "，关联到循环组 {parent} 中的所属行",
    "linked_to_root": "，关联到 {root} 中的所属提交",
    "row_count": "；行数：{count}",
    "in_repeat": "属于循环组 {name}（{text}）",
    "export_columns": "导出列",
    "store_columns": "数据库分析表列",
    "values": "取值",
    "hint": "提示",
    "guidance": "访员指引",
    "choices": "选项",
    "relevance": "询问条件",
    "relevance_of": "{name} 的询问条件",
    "constraint": "约束",
    "constraint_message": "约束提示",
    "required": "必答",
    "required_message": "必答提示",
    "required_yes": "是",
    "required_when": "当 {expression} 时",
    "calculation": "计算式",
    "default": "默认值",
    "read_only": "只读",
    "choice_filter": "选项筛选",
    "appearance": "外观",
    "parameters": "参数",
    "trigger": "触发",
    "save_to": "保存到实体属性",
    "inside": "所在分组",
    "xpath": "XPath",
    "calculated": "（计算得出，不询问）",
    "external_data": "（表单附带的外部数据集 {name}）",
    "no_label": "（无标签）",
    "from_language": "{text} [{language}]",
    "from_repeat": "{name}{where}的回答（保存的值为所选回答的文字）",
    "from_repeat_where": "（循环组 {repeat}）",
    "from_file": "来自附件文件 {file}（代码列 '{value}'，标签列 '{label}'）",
    "list": "选项列表 {name}",
    "list_external": "external_choices 表中的选项列表 {name}",
    "list_undefined": "选项列表 {name}（本表单未定义）",
    "list_search": "{list}，运行时由 search() 从附件文件 {file}.csv 读取",
    "search_columns": "（代码列 '{value}'，标签列 '{label}'）",
    "other_label": "其他",
    "note_multiple": (
        "多选：导出为以空格分隔的字符串 {name}，另加每个选项一个 0/1 变量（{columns}）。"
    ),
    "note_string": "导出为以空格分隔的字符串 {name}。",
    "note_geo": "导出时拆分为 {columns}。",
    "note_or_other": (
        "'or_other'：选项列表增加代码 'other'（其他），选中时追问文字变量 {name}_other"
        "（“请注明”）。"
    ),
    "note_or_other_multiple": (
        "'or_other'：选项列表增加代码 'other'（其他），选中时追问文字变量 {name}_other"
        "（“请注明”）；{name}_other 非空即表示选了“其他”。"
    ),
    "note_metadata": "元数据：由 ODK Collect 自动记录，不询问。",
    "note_pii": "个人身份信息：共享数据前须删除或脱敏。",
    "note_no_data": "不保存数据。",
    "single_choice": "单选",
    "several_choices": "多选",
    "ranking": "排序（对选项排出先后）",
    "text": "文本",
    "type_integer": "整数",
    "type_decimal": "小数",
    "type_range": "区间（滑块上的数值）",
    "type_note": "说明（只显示文字，不保存数据）",
    "type_acknowledge": "确认（'OK' 或空）",
    "type_calculate": "计算（不询问）",
    "type_hidden": "隐藏值（不询问）",
    "type_geopoint": "GPS 点（纬度 经度 海拔 精度）",
    "type_geotrace": "GPS 线（各点以 ';' 分隔）",
    "type_geoshape": "GPS 多边形（各点以 ';' 分隔）",
    "type_date": "日期",
    "type_datetime": "日期和时间",
    "type_time": "时刻",
    "type_attachment": "{kind}（附件文件名）",
    "type_barcode": "条形码（文本）",
    "type_external": "外部数据集（不保存数据）",
    "type_osm": "OpenStreetMap 要素",
    "type_audit": "审计日志（附件 audit.csv）",
    "meta_start": "访问开始的日期和时间（自动记录）",
    "meta_end": "访问最后保存的日期和时间（自动记录）",
    "meta_today": "访问日期（自动记录）",
    "meta_deviceid": "平板或手机的设备 ID（自动记录）",
    "meta_username": "ODK Collect 中设置的用户名，即调查员（自动记录）",
    "meta_phonenumber": "设备电话号码（自动记录）",
    "meta_subscriberid": "SIM 卡用户 ID（自动记录）",
    "meta_simserial": "SIM 卡序列号（自动记录）",
    "meta_email": "用户电子邮箱（自动记录）",
    "meta_audit": "访问审计日志：附件 audit.csv（自动记录）",
    "meta_start-geopoint": "访问开始时的位置（自动记录）",
    "meta_background-audio": "访问全程录音（自动记录）",
    "meta_background-geopoint": "回答触发问题时记录的位置",
}


@dataclass(frozen=True)
class Words:
    """The codebook's own words in one language: ``words("row_count", count=3)``."""

    table: Mapping[str, str]

    def __call__(self, key: str, **values: str) -> str:
        """The phrase ``key`` with ``{placeholders}`` filled in."""
        return self.table[key].format(**values) if values else self.table[key]

    def get(self, key: str) -> str | None:
        """The phrase ``key``, or None when there is none."""
        return self.table.get(key)


def words_for(language: str | None) -> Words:
    """Chinese words for a Chinese language of the form, English for every other."""
    return Words(CHINESE if is_chinese(language) else ENGLISH)


def is_chinese(language: str | None) -> bool:
    """True for ``中文 (zh)``, ``Chinese (zh-CN)``, ``zh``, ``简体中文``, ..."""
    if not language:
        return False
    code = (language_code(language) or language).lower()
    return (
        code == "zh"
        or code.startswith("zh-")
        or "中文" in language
        or (language.lower().startswith("chinese"))
    )
