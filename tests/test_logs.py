"""No log line carries a full ID number or mobile, tracebacks included."""

import io
import json
import logging
import re

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


@pytest.fixture
def log_lines(caplog):
    """The lines the root handler of `dandelion serve` would write, formatted as JSON."""
    logs.install()
    caplog.set_level(logging.INFO)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter("json"))
    handler.addFilter(logs.RequestContext())
    logging.getLogger().addHandler(handler)

    def lines(logger: str = "app.access") -> list[dict]:
        parsed = [json.loads(line) for line in stream.getvalue().splitlines()]
        return [line for line in parsed if line["logger"] == logger]

    yield lines
    logging.getLogger().removeHandler(handler)


def test_one_access_line_a_request_with_the_route_template(client, log_lines):
    response = client.get("/verify/ABCDEF?k=1&s=signature-from-the-qr-code")
    [line] = log_lines()
    assert line["route"] == "/verify/{serial}" and line["method"] == "GET"
    assert line["status"] == response.status_code and isinstance(line["duration_ms"], float)
    assert line["request_id"] == response.headers["X-Request-ID"] and line["user_id"] is None
    assert set(line) >= {"time", "level", "logger", "message"}
    assert "signature-from-the-qr-code" not in json.dumps(log_lines())
    assert "ABCDEF" not in json.dumps(line)  # the path's value, never the path


def test_a_prefixed_route_keeps_its_prefix(client, log_lines):
    client.get("/api/v1/keys")
    assert log_lines()[0]["route"] == "/api/v1/keys"


def test_the_signed_in_user_is_named_by_id(staff_a, log_lines):
    staff_a.get("/staff/uploads")
    assert [line["user_id"] for line in log_lines()] == [staff_a.user.id]


def test_unmatched_paths_are_not_logged_as_typed(client, log_lines):
    client.get(f"/no/such/{ID}/page")
    [line] = log_lines()
    assert line["route"] is None and line["status"] == 404 and ID not in json.dumps(line)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("lb-7f3a.42:1", True),
        (ID, False),  # an ID number smuggled in the header
        ("a" * 65, False),
        ("two words", False),
        ("", False),
    ],
)
def test_a_plain_request_id_is_kept_and_any_other_replaced(client, log_lines, given, kept):
    response = client.get("/healthz", headers={"X-Request-ID": given})
    echoed = response.headers["X-Request-ID"]
    assert (echoed == given) is kept and logs.mask(echoed) == echoed
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", echoed)


def test_each_request_gets_its_own_id_on_every_line_it_logs(client, log_lines):
    ids = {client.get("/").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3 and {line["request_id"] for line in log_lines()} == ids


def test_fields_given_beside_the_message_are_masked_too(log_lines):
    logging.getLogger("app.test").warning("odd %s", "route", extra={"route": f"/x/{ID}"})
    [line] = log_lines("app.test")
    assert ID not in json.dumps(line) and "370***********123X" in line["route"]


def test_text_lines_for_a_developer(client, caplog):
    caplog.set_level(logging.INFO)
    response = client.get("/healthz?probe=1", headers={"X-Request-ID": "dev-1"})
    assert response.status_code == 200
    records = [r for r in caplog.records if r.name == "app.access"]
    # A probe that is answered "ok" is logged below INFO: nothing every few seconds.
    assert records == []
    client.get("/api/v1/keys", headers={"X-Request-ID": "dev-2"})
    [record] = [r for r in caplog.records if r.name == "app.access"]
    record.request_id = "dev-2"  # as the handler's RequestContext filter sets it
    line = logs.formatter("text").format(record)
    assert "[dev-2] GET /api/v1/keys 200" in line and "route=/api/v1/keys" in line
    assert "status=200" in line and "duration_ms=" in line
