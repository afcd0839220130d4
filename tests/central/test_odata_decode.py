"""Decoding OData pages while keeping each row's text as received."""

from __future__ import annotations

import json

import pytest

from surveys.central.odata import PageFormatError, decode_page


def test_rows_are_sliced_exactly_as_received():
    text = (
        ' {"@odata.context":"x" , "value" : [ {"__id":"a", "v":[1, 2],"s":"中文 \\"q\\""} ,'
        '\n{"__id":"b"}],"@odata.nextLink":"http://h/n","@odata.count":2} '
    )
    page, raw = decode_page(text)
    assert page == json.loads(text)
    assert raw == ['{"__id":"a", "v":[1, 2],"s":"中文 \\"q\\""}', '{"__id":"b"}']
    assert [json.loads(r) for r in raw] == page["value"]


def test_empty_and_valueless_pages():
    assert decode_page('{"value":[]}') == ({"value": []}, [])
    assert decode_page('{"message":"x"}') == ({"message": "x"}, None)
    assert decode_page("[1]") == ([1], None)


@pytest.mark.parametrize(
    "text", ["<html>", '{"value":[{"__id":1},]}', '{"value":[]} trailing', '{"a" 1}', ""]
)
def test_garbage_raises(text):
    with pytest.raises(PageFormatError):
        decode_page(text)
