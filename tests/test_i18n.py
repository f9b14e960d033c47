"""The Chinese catalog is complete and consistent with the source.

Messages are extracted exactly as scripts/messages.sh does (babel.cfg, with the N_ keyword), so a
string added to the code or the templates without a Chinese translation fails here: run
`bash scripts/messages.sh` and translate the new entries in app/locale/zh/LC_MESSAGES/messages.po.
"""

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app import i18n

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "app" / "locale" / "zh" / "LC_MESSAGES" / "messages.po"
# printf-style named placeholders as Python's % operator reads them: %(name)s, %(n)d, %(x).1f
PLACEHOLDER = re.compile(r"%\(([^)]*)\)[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa]")


def _catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="zh")


def _extracted() -> dict[tuple[str, str | None], list[str]]:
    """msgid (and context) -> where it is used, from the source tree as pybabel extract sees it."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(ROOT / "babel.cfg"))
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found: dict[tuple[str, str | None], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords
    ):
        msgid = message[0] if isinstance(message, (list, tuple)) else message
        if msgid:
            found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


def _placeholders(text: str) -> Counter:
    return Counter(m.group(0) for m in PLACEHOLDER.finditer(text))


def test_extraction_finds_the_source_messages():
    extracted = _extracted()
    # A sanity check that extraction really ran over both Python code and the templates.
    assert ("This course is full", None) in extracted  # N_() in a service and a template
    assert ("Log in", None) in extracted  # {{ _() }} in a template
    assert len(extracted) > 50


def test_every_extracted_message_has_a_chinese_translation():
    catalog = _catalog()
    missing = []
    for (msgid, context), where in sorted(_extracted().items(), key=lambda item: item[0][0]):
        entry = catalog.get(msgid, context=context)
        string = entry.string if entry is not None else None
        if isinstance(string, (list, tuple)):
            string = string[0] if all(string) else ""
        if not string or not string.strip():
            missing.append(f"{msgid!r} ({where[0]})")
    assert not missing, (
        f"{len(missing)} message(s) have no Chinese translation; run `bash scripts/messages.sh` and "
        "translate them in app/locale/zh/LC_MESSAGES/messages.po:\n  " + "\n  ".join(missing)
    )


def test_placeholders_match_between_msgid_and_msgstr():
    wrong = []
    for message in _catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        expected = _placeholders(ids[-1]) | _placeholders(ids[0])
        for string in strings:
            if string and _placeholders(string) != expected:
                wrong.append(f"{ids[0]!r} -> {string!r}")
    assert not wrong, "placeholders differ between msgid and msgstr:\n  " + "\n  ".join(wrong)


def test_placeholder_check_catches_a_mismatch():
    # The comparison itself must be able to fail.
    assert _placeholders("已颁发 %(issued)s 份") != _placeholders("%(issued)d certificates")
    assert _placeholders("%(n)s · %(u)s") != _placeholders("%(n)s · %(u)s · %(c)s")
    assert _placeholders("剩余名额：%(n)s") == _placeholders("Seats left: %(n)s")


def test_catalog_has_no_fuzzy_entries():
    fuzzy = [message.id for message in _catalog() if message.id and message.fuzzy]
    assert not fuzzy, f"fuzzy entries need review: {fuzzy}"


def test_catalog_parses_cleanly():
    problems = [f"{message.id!r}: {errors}" for message, errors in _catalog().check()]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("msgid", "expected"),
    [
        ("This course is full", "这门课程已满"),
        ("Enrollment for this course is closed", "本课程报名已截止"),
        ("Resident ID number", "居民身份证号码"),
        ("Digital talents cultivated", "培养数字人才"),
    ],
)
def test_runtime_translation(msgid, expected):
    assert i18n.translations("zh").gettext(msgid) == expected


def test_runtime_translation_with_placeholders():
    token = i18n.set_language("zh")
    try:
        assert i18n.gettext("Seats left: %(n)s", n=3) == "剩余名额：3"
    finally:
        i18n.reset_language(token)
