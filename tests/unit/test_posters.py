"""Poster templates as data, copy texts, the cache key and the fit-text layout (pure Python)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ripple.domain.errors import ValidationError
from ripple.domain.posters import (
    PosterTemplate,
    fit_text,
    poster_cache_key,
    tokenize,
    validate_copy,
    validate_template,
    wrap,
)

BASE: dict[str, Any] = {
    "name": "T",
    "text_boxes": [{"binding": "employee_name", "x": 0, "y": 0, "width": 1080, "height": 200}],
    "qr": {"x": 0, "y": 1520, "size": 400},
}


def _cjk(ch: str) -> bool:
    return ord(ch) > 0x2E80


def measure(text: str, size: int) -> float:
    """A fake font: CJK characters are 1 em wide, everything else 0.5 em."""
    return sum(size if _cjk(c) else size * 0.5 for c in text)


def _err(body: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validate_template(body)
    return info.value


# ------------------------------------------------------------------ templates


def test_defaults_and_normalisation() -> None:
    tpl = validate_template({**BASE, "background_color": "#abcdef"})
    assert (tpl["width"], tpl["height"]) == (1080, 1920)
    assert tpl["background_color"] == "#ABCDEF"
    (box,) = tpl["text_boxes"]
    assert (box.font_size, box.color, box.align) == (64, "#000000", "left")


def test_box_touching_the_edge_is_inside_one_pixel_more_is_not() -> None:
    edge = {"binding": "team", "x": 1000, "y": 1900, "width": 80, "height": 20}
    validate_template({**BASE, "text_boxes": [edge]})
    err = _err({**BASE, "text_boxes": [{**edge, "width": 81}]})
    assert err.details["field"] == "text_boxes[0]" and "outside" in err.message
    assert _err({**BASE, "qr": {"x": 681, "y": 0, "size": 400}}).details["field"] == "qr"


@pytest.mark.parametrize(
    ("box", "field"),
    [
        ({"binding": "nickname"}, "text_boxes[0].binding"),
        ({"binding": "team", "x": -1}, "text_boxes[0].x"),
        ({"binding": "team", "x": True}, "text_boxes[0].x"),
        ({"binding": "team", "font_size": 4}, "text_boxes[0].font_size"),
        ({"binding": "team", "color": "#12345"}, "text_boxes[0].color"),
        ({"binding": "team", "align": "justify"}, "text_boxes[0].align"),
        ({"binding": "team", "text": "fixed"}, "text_boxes[0].text"),
        ({"binding": "custom"}, "text_boxes[0].text"),
        ({"binding": "custom", "text": "a\u202eb"}, "text_boxes[0].text"),
    ],
)
def test_bad_boxes_name_the_field(box: dict[str, Any], field: str) -> None:
    full = {"x": 0, "y": 0, "width": 100, "height": 100, **box}
    assert _err({**BASE, "text_boxes": [full]}).details["field"] == field


def test_unknown_fields_and_missing_qr() -> None:
    assert _err({**BASE, "layers": []}).details["fields"] == ["layers"]
    box = {**BASE["text_boxes"][0], "rotation": 5}
    assert _err({**BASE, "text_boxes": [box]}).details["fields"] == ["text_boxes[0].rotation"]
    assert _err({k: v for k, v in BASE.items() if k != "qr"}).details["field"] == "qr"


def test_copy_validation() -> None:
    copy = validate_copy({"tags": ["B", "a", "b"], "variants": {"ko": " 안녕 ", "zh-Hant": "你好"}})
    assert copy["tags"] == ("a", "b") and copy["variants"] == {"ko": "안녕", "zh-Hant": "你好"}
    for bad in ({"variants": {"xx": "hi"}}, {"variants": {"en": ""}}, {"variants": {"en": "x"}, "tags": "t"}):
        with pytest.raises(ValidationError):
            validate_copy(bad)


# ------------------------------------------------------------------ cache key


def _template(**changes: Any) -> PosterTemplate:
    fields = validate_template(BASE)
    return replace(PosterTemplate(tenant_id="t", template_id="tpl", version=1, **fields), **changes)


def test_cache_key_changes_with_everything_that_changes_pixels() -> None:
    args: dict[str, Any] = {
        "tenant_id": "t",
        "template": _template(),
        "background_key": "materials/t/m1.jpg",
        "texts": {"employee_name": "Alice", "team": "sales", "campaign_title": "Spring"},
        "qr_data": "https://r.example/abc",
        "fmt": "jpeg",
    }
    key = poster_cache_key(**args)
    assert key.startswith("posters/t/") and key.endswith(".jpg")
    assert poster_cache_key(**args) == key  # deterministic
    variants = [
        {"template": _template(version=2)},
        {"template": _template(template_id="other")},
        {"background_key": "materials/t/m2.jpg"},
        {"texts": {**args["texts"], "employee_name": "Alicia"}},
        {"texts": {**args["texts"], "team": "ops"}},
        {"qr_data": "https://r.example/abd"},
        {"fmt": "png"},
    ]
    keys = {poster_cache_key(**{**args, **v}) for v in variants}
    assert len(keys) == len(variants) and key not in keys


# ------------------------------------------------------------------ tokenize, wrap, fit


def test_tokenize_keeps_words_splits_cjk_and_glues_closing_punctuation() -> None:
    assert tokenize("Hello big world") == ["Hello ", "big ", "world"]
    assert tokenize("春の新作。です") == ["春", "の", "新", "作。", "で", "す"]
    assert tokenize("김민준 한국어") == ["김", "민", "준", " ", "한", "국", "어"]


def test_wrap_respects_width_and_breaks_overlong_words() -> None:
    lines = wrap("aaaa bbbb cccc", 45, lambda s: measure(s, 10))  # 9 chars per line
    assert lines == ["aaaa bbbb", "cccc"]
    assert wrap("abcdefghij", 25, lambda s: measure(s, 10)) == ["abcde", "fghij"]
    assert all(measure(line, 10) <= 30 for line in wrap("新しい春のキャンペーン", 30, lambda s: measure(s, 10)))


def test_fit_keeps_the_requested_size_when_it_fits() -> None:
    fit = fit_text("Alice", 1000, 200, 64, measure)
    assert (fit.size, fit.lines, fit.truncated) == (64, ("Alice",), False)


@pytest.mark.parametrize(
    "text", ["Maximilian Alexander von Habsburg-Lothringen", "陳大文們這樣說的時候很高興", "김민준 한국어 이름"]
)
def test_fit_shrinks_to_the_largest_size_that_fits(text: str) -> None:
    width, height = 300, 120
    fit = fit_text(text, width, height, 120, measure)
    assert 8 <= fit.size < 120 and not fit.truncated
    assert "".join(fit.lines).replace(" ", "") == text.replace(" ", "")
    assert all(measure(line, fit.size) <= width for line in fit.lines)
    assert len(fit.lines) * fit.line_height - (fit.line_height - fit.size) <= height
    # maximal: one size up, the wrapped block is taller than the box
    up = fit.size + 1
    line_height = round(up * 1.25)
    lines = wrap(text, width, lambda s: measure(s, up))
    assert len(lines) * line_height - (line_height - up) > height


def test_fit_truncates_with_an_ellipsis_when_even_the_minimum_does_not_fit() -> None:
    fit = fit_text("word " * 200, 100, 30, 40, measure)
    assert fit.truncated and fit.size == 8 and fit.lines[-1].endswith("…")
    assert all(measure(line, 8) <= 100 for line in fit.lines)
