"""contact.py: phone, e-mail and name normalised for matching, masked for display."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from ripple.domain.contact import (
    contact_keys,
    mask_email,
    mask_name,
    mask_phone,
    normalise_email,
    normalise_name,
    normalise_phone,
)
from ripple.domain.errors import ValidationError


def rejected(fn: Any, *args: Any) -> tuple[int, Any]:
    with pytest.raises(ValidationError) as exc:
        fn(*args)
    return exc.value.status, exc.value.details.get("field")


FULL_WIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "+0123456789"})

# --- phone ---------------------------------------------------------------------------------

PHONES = [
    ("+86 138 0013 8000", "CN", "+8613800138000"),
    ("13800138000", "CN", "+8613800138000"),
    ("138-0013-8000", "CN", "+8613800138000"),
    ("0086 138 0013 8000", "CN", "+8613800138000"),  # international dialling prefix
    ("  +86 (138) 0013.8000 ", "CN", "+8613800138000"),
    ("13800138000".translate(FULL_WIDTH), "CN", "+8613800138000"),  # typed with a CJK input method
    ("+86 138 0013 8000".translate(FULL_WIDTH), "JP", "+8613800138000"),
    ("+81 90-1234-5678", "CN", "+819012345678"),  # a + overrides the default region
    ("090-1234-5678", "JP", "+819012345678"),
    ("090-1234-5678", "jp", "+819012345678"),
    ("03-1234-5678", "JP", "+81312345678"),
    ("+852 5123 4567", "CN", "+85251234567"),
    ("+886 912 345 678", "CN", "+886912345678"),
    ("(650) 253-0000", "US", "+16502530000"),
    ("+44 20 7946 0958", "CN", "+442079460958"),
]


@pytest.mark.parametrize(("raw", "region", "expected"), PHONES)
def test_normalise_phone(raw: str, region: str, expected: str) -> None:
    assert normalise_phone(raw, region) == expected


def test_normalise_phone_defaults_to_china_and_is_idempotent() -> None:
    assert normalise_phone("13800138000") == "+8613800138000"
    assert normalise_phone(normalise_phone("090-1234-5678", "JP")) == "+819012345678"


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("", "CN"),
        ("   ", "CN"),
        ("12345", "CN"),  # too short to be anything
        ("1380013800", "CN"),  # one digit short
        ("138001380001", "CN"),  # one digit long
        ("03-1234-5678", "CN"),  # a Tokyo national number read as Chinese
        ("+999 1234 5678", "CN"),  # no such country code
        ("1-800-FLOWERS", "US"),  # letters are refused, not translated
        ("138 0013 8000 ext 12", "CN"),
        ("abc", "CN"),
        ("+86 138 0013 8000" + " " * 20, "CN"),  # over 32 characters
        ("1" * 33, "CN"),
        ("++8613800138000", "CN"),
        ("+86+13800138000", "CN"),
        ("138\x000013 8000", "CN"),
        ("<script>", "CN"),
        ("13800138000", "ZZ"),  # unknown default region: no way to read a national number
    ],
)
def test_normalise_phone_rejects(raw: str, region: str) -> None:
    assert rejected(normalise_phone, raw, region) == (422, "phone")


@pytest.mark.parametrize("raw", [None, 13800138000, ["13800138000"], {"phone": "1"}])
def test_normalise_phone_rejects_non_strings(raw: Any) -> None:
    assert rejected(normalise_phone, raw) == (422, "phone")


# --- e-mail --------------------------------------------------------------------------------

EMAILS = [
    ("alice@example.com", "alice@example.com"),
    ("  Alice@Example.COM ", "alice@example.com"),
    ("ALICE.WANG+promo@mail.example.co.jp", "alice.wang+promo@mail.example.co.jp"),
    ("bob@Bücher.de", "bob@xn--bcher-kva.de"),
    ("王@例子.中国", "王@xn--fsqu00a.xn--fiqs8s"),
    ("alice\uff20example\uff0ecom", "alice@example.com"),  # full-width at sign and full stop
    ("o'brien@example.ie", "o'brien@example.ie"),
    ("a@b.co", "a@b.co"),
]


@pytest.mark.parametrize(("raw", "expected"), EMAILS)
def test_normalise_email(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected
    assert normalise_email(expected) == expected  # idempotent


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "alice",
        "alice.example.com",  # missing @
        "alice@@example.com",
        "a@b@example.com",
        "@example.com",
        "alice@",
        "alice @example.com",
        "alice@exa mple.com",
        "alice\t@example.com",
        "alice@localhost",  # no dot in the domain
        "alice..wang@example.com",
        ".alice@example.com",
        "alice.@example.com",
        "alice@example..com",
        "alice@.example.com",
        "alice@example.com.",
        "alice@-example.com",
        "alice@example-.com",
        "alice@exa_mple.com",
        "alice@[192.168.0.1]",
        "alice@192.168.0.1",  # numeric top-level label
        '"alice"@example.com',
        "<alice>@example.com",
        "alice,bob@example.com",
        "alice@example.com\x00",
        "alice\u202e@example.com",
        "a" * 65 + "@example.com",  # local part over 64
        "a@" + "b" * 64 + ".com",  # label over 63
        "a@" + ".".join(["b" * 60] * 5) + ".com",  # over 254
        "alice@exa\ud800mple.com",
    ],
)
def test_normalise_email_rejects(raw: str) -> None:
    assert rejected(normalise_email, raw) == (422, "email")


def test_normalise_email_length_limit_is_inclusive() -> None:
    local = "a" * 64
    domain = ".".join(["b" * 60, "c" * 60, "d" * 60]) + "." + "e" * (254 - 64 - 1 - 183)
    email = f"{local}@{domain}"
    assert len(email) == 254 and normalise_email(email) == email
    assert rejected(normalise_email, email + "e") == (422, "email")


@pytest.mark.parametrize("raw", [None, 1, ["a@b.co"]])
def test_normalise_email_rejects_non_strings(raw: Any) -> None:
    assert rejected(normalise_email, raw) == (422, "email")


# --- name ----------------------------------------------------------------------------------

NAMES = [
    ("张三丰", "张三丰"),
    ("  Alice   Wang ", "Alice Wang"),
    ("山田\u3000太郎", "山田 太郎"),  # ideographic space
    ("Alice\n\tWang", "Alice Wang"),
    ("O'Brien-Smith", "O'Brien-Smith"),
    ("x" * 100, "x" * 100),
]


@pytest.mark.parametrize(("raw", "expected"), NAMES)
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "\u3000", "x" * 101, "Alice\x00", "Alice\x1bWang", "\x7f", "Alice\u202eWang", "\ud800", "a" * 1000],
)
def test_normalise_name_rejects(raw: str) -> None:
    assert rejected(normalise_name, raw) == (422, "name")


@pytest.mark.parametrize("raw", [None, 1, ["Alice"]])
def test_normalise_name_rejects_non_strings(raw: Any) -> None:
    assert rejected(normalise_name, raw) == (422, "name")


# --- masks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+8613800138000", "+86 138****8000"),
        ("+819012345678", "+81 901***5678"),
        ("+16502530000", "+1 650***0000"),
        ("+85251234567", "+852 512*4567"),
        ("+85221234", "+852 ***34"),  # short national numbers show only their last two digits
        ("+8521234", "+852 ****"),
        ("garbage", "***"),
        ("13800138000", "138****8000"),  # not E.164: the digits alone
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_masked_phone_hides_at_least_the_middle() -> None:
    for raw, region, _ in PHONES:
        e164 = normalise_phone(raw, region)
        masked = mask_phone(e164)
        assert "*" in masked and e164 not in masked.replace(" ", "")


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("alice@example.com", "a***@example.com"),
        ("a@example.com", "a***@example.com"),
        ("王@xn--fsqu00a.xn--fiqs8s", "王***@xn--fsqu00a.xn--fiqs8s"),
        ("nodomain", "***"),
        ("@example.com", "***"),
    ],
)
def test_mask_email(email: str, masked: str) -> None:
    assert mask_email(email) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张**"),
        ("张三", "张*"),
        ("张", "*"),
        ("欧阳娜娜", "欧***"),
        ("Alice Wang", "A*** W***"),
        ("Al", "A***"),  # the length of a Latin name is not shown
        ("山田 太郎", "山* 太*"),
        ("Wang 小明", "W*** 小*"),
        ("", "***"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


# --- keys ----------------------------------------------------------------------------------


def test_contact_keys() -> None:
    assert contact_keys("+8613800138000", "alice@example.com") == ["phone:+8613800138000", "email:alice@example.com"]
    assert contact_keys("+8613800138000", None) == ["phone:+8613800138000"]
    assert contact_keys(None, "alice@example.com") == ["email:alice@example.com"]
    assert contact_keys(None, None) == [] and contact_keys("", "") == []


def test_the_same_person_typed_differently_gets_the_same_keys() -> None:
    first = contact_keys(normalise_phone("138 0013 8000"), normalise_email("Alice@Example.com"))
    again = contact_keys(normalise_phone("+86-13800138000"), normalise_email(" alice@EXAMPLE.COM "))
    assert first == again


def test_importing_contact_does_not_load_phonenumbers() -> None:
    """The library's metadata loads on the first phone number, not on import (cold starts)."""
    code = "import sys, ripple.domain.contact; print('phonenumbers' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert (proc.returncode, proc.stdout.strip()) == (0, "False"), proc.stderr
    code += "; ripple.domain.contact.normalise_phone('13800138000'); print('phonenumbers' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.stdout.split() == ["False", "True"], proc.stderr


# --- which region a national number is read in (issue 12: +81 stored as +86) ------------


def test_phone_regions_put_the_visitor_before_the_tenant_default() -> None:
    from ripple.domain.contact import phone_regions

    assert phone_regions(chosen=None, viewer_country="JP", lang="", default="CN") == ("JP", "CN")
    assert phone_regions(chosen=None, viewer_country="", lang="ja", default="CN") == ("JP", "CN")
    assert phone_regions(chosen=None, viewer_country="", lang="ja-JP", default="CN") == ("JP", "CN")
    assert phone_regions(chosen=None, viewer_country="", lang="en-GB", default="CN") == ("GB", "CN")
    assert phone_regions(chosen=None, viewer_country="", lang="en", default="CN") == ("CN",)
    assert phone_regions(chosen=None, viewer_country="cn", lang="zh-Hans", default="CN") == ("CN",)
    assert phone_regions(chosen="TW", viewer_country="JP", lang="ja", default="CN") == ("TW", "JP", "CN")
    assert phone_regions(chosen=None, viewer_country="XX1", lang="", default="CN") == ("CN",)  # junk header


def test_a_national_number_takes_the_first_region_it_is_valid_in() -> None:
    from ripple.domain.contact import normalise_phone_in

    assert normalise_phone_in("090-1234-5678", ("JP", "CN")) == "+819012345678"
    assert normalise_phone_in("138 0013 8000", ("JP", "CN")) == "+8613800138000"  # not a JP number
    assert normalise_phone_in("+86 138 0013 8000", ("JP",)) == "+8613800138000"
    with pytest.raises(ValidationError):
        normalise_phone_in("12", ("JP", "CN"))


@pytest.mark.parametrize("raw", ["ZZ", "JPN", "", "j", "8", None, 81])
def test_a_country_choice_must_be_a_region_phone_numbers_know(raw: object) -> None:
    from ripple.domain.contact import validate_region

    with pytest.raises(ValidationError) as err:
        validate_region(raw)
    assert err.value.details == {"field": "country"}


def test_the_forms_calling_codes_are_libphonenumbers() -> None:
    import phonenumbers

    from ripple.domain.contact import validate_region
    from ripple.web.landing_page import PHONE_REGIONS

    for region, code in PHONE_REGIONS:
        assert validate_region(region.lower()) == region
        assert phonenumbers.country_code_for_region(region) == code, region
