"""The export's own texts (variable labels of keys and design columns, yes/no, not
applicable) in English and Chinese; the questionnaire's texts come from the form."""

from __future__ import annotations

_EN = {
    "__id": "Submission ID (ODK Central __id)",
    "__key": "Row key (submission ID / repeat[position])",
    "__parent_key": "Key of the parent row",
    "__position": "Position in the repeat (1, 2, ...)",
    "instance_id": "Instance ID of the current version",
    "form_version": "Form version",
    "submitter_id": "Submitter (Central actor ID)",
    "submitter_name": "Submitter name",
    "device_id": "Device ID",
    "submission_date": "Date and time received by Central",
    "review_state": "Review state in Central",
    "edits": "Number of edits",
    "weight": "Final weight",
    "strata": "Stratum",
    "psu": "Primary sampling unit",
    "fpc": "Finite population correction",
    "replicate": "Replicate weight {n}",
    "yes": "Yes",
    "no": "No",
    "skipped": "Not applicable (skipped)",
    "other_text": "{label}: other (specify)",
    "geo": "{label} ({part})",
    "latitude": "latitude",
    "longitude": "longitude",
    "altitude": "altitude",
    "accuracy": "accuracy",
    "position_of": "{label} [{n}]",
}
_ZH = {
    "__id": "提交编号 (ODK Central __id)",
    "__key": "行键 (提交编号/重复组[序号])",
    "__parent_key": "上级行的键",
    "__position": "在重复组中的序号",
    "instance_id": "当前版本的实例编号",
    "form_version": "问卷版本",
    "submitter_id": "提交者 (Central 用户编号)",
    "submitter_name": "提交者姓名",
    "device_id": "设备编号",
    "submission_date": "Central 接收时间",
    "review_state": "Central 审核状态",
    "edits": "修改次数",
    "weight": "最终权数",
    "strata": "层",
    "psu": "初级抽样单位",
    "fpc": "有限总体校正",
    "replicate": "重复权数 {n}",
    "yes": "是",
    "no": "否",
    "skipped": "不适用 (跳过)",
    "other_text": "{label}: 其他 (请注明)",
    "geo": "{label} ({part})",
    "latitude": "纬度",
    "longitude": "经度",
    "altitude": "海拔",
    "accuracy": "精度",
    "position_of": "{label} [{n}]",
}


def words_for(language: str | None):
    """A ``word(key, **fields)`` function in ``language`` (Chinese for zh languages)."""
    table = _ZH if language and ("zh" in language.lower() or "中文" in language) else _EN

    def word(key: str, **fields: object) -> str:
        return table[key].format(**fields)

    return word
