"""No log line carries a full ID number or mobile, tracebacks included."""

import logging

import pytest

from app import logs

ID = "37010219900101123X"
OLD_ID = "370102900101123"
MOBILE = "13912345678"


@pytest.fixture
def masked(caplog, monkeypatch):
    logs.install()
    caplog.set_level(logging.INFO)
    # Whatever another test's uvicorn.Config did to uvicorn's loggers, their records reach caplog.
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "propagate", True)
        monkeypatch.setattr(logger, "disabled", False)
        monkeypatch.setattr(logger, "level", logging.INFO)
    return caplog


def test_message_and_arguments_are_masked(masked):
    logging.getLogger("app.test").warning("row %s: %s / %s", ID, MOBILE, OLD_ID.lower())
    logging.getLogger("app.test").warning(f"in the message itself {ID.lower()} +86 {MOBILE}")
    logging.getLogger("app.test").warning("%(who)s", {"who": ID})
    logging.getLogger("app.test").warning("as a number %d", int(ID[:17] + "1"))
    text = masked.text
    assert ID not in text and ID.lower() not in text and MOBILE not in text and OLD_ID not in text
    assert ID[:17] not in text and "370***********123X" in text and "139****5678" in text


def test_tracebacks_are_masked(masked):
    try:
        raise ValueError(f"{ID} cannot be used in worksheets.")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application\n")
    record = masked.records[-1]
    formatted = logging.Formatter().format(record)
    assert "Traceback" in formatted and "ValueError" in formatted
    assert ID not in formatted and "370***********123X" in formatted


def test_other_numbers_and_access_lines_keep_their_shape(masked):
    from uvicorn.logging import AccessFormatter

    logging.getLogger("app.test").info("batch %d of %s rows, code %s", 7, "10000", "2026001")
    assert masked.records[-1].getMessage() == "batch 7 of 10000 rows, code 2026001"
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/verify?x={ID}", "1.1", 200
    )
    line = AccessFormatter("%(message)s", use_colors=False).format(masked.records[-1])
    assert ID not in line and '"GET /verify?x=370***********123X HTTP/1.1" 200' in line


@pytest.mark.parametrize(
    "spelt",
    [
        "%20370102199001011237",
        "370102+1990+0101+1237",
        "370102%201990%200101%201237",
        "370102 1990 0101 1237",
        "３７０１０２１９９００１０１１２３７",
        "%EF%BC%93%EF%BC%97%EF%BC%90102199001011237",
        "370102++19900101++1237",
        "370102.19900101.1237",
        "370102_19900101_1237",
        "370102%0919900101%091237",
        "370102%2F19900101%2F1237",
        "370+102+1990+0101+12+37",
    ],
)
def test_id_numbers_however_spelt_in_a_request_line(masked, spelt):
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/verify?serial={spelt}", "1.1", 404
    )
    line = masked.records[-1].getMessage()
    assert "199001011237" not in line.replace(" ", "") and "370***********1237" in line


@pytest.mark.parametrize(
    "spelt",
    [
        "%2013800138000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "13800138000,13900139000",
        "138++0013++8000",
        "13+800+138+000",
        "138.0013.8000",
    ],
)
def test_mobiles_however_spelt(masked, spelt):
    logging.getLogger("app.test").warning("mobile %s", spelt)
    line = masked.records[-1].getMessage()
    assert "0013" not in line and "8000" in line


def test_lines_without_personal_data_are_left_exactly_as_they_were(masked):
    from decimal import Decimal

    log = logging.getLogger("app.test")
    log.info("%3d rows in %02d s, %.1f hours", 7, 3, Decimal("16.5"))
    log.info("press CTRL+C to stop; %d%% done", 50)
    log.info("rows %s", "100 200 300 400")
    assert [r.getMessage() for r in masked.records[-3:]] == [
        "  7 rows in 03 s, 16.5 hours",
        "press CTRL+C to stop; 50% done",
        "rows 100 200 300 400",
    ]
