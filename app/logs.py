"""No personal data in any log line: ID numbers and mobiles are masked as records are made.

The code never logs them on purpose, but exception messages may carry a value that was being
handled (openpyxl puts a refused cell's text in its error), and the traceback would write it
to the log. Masking where records are created covers every logger and handler, uvicorn's
included, however they are configured later.
"""

import json
import logging
import logging.config
import re
import traceback
import unicodedata
from contextvars import ContextVar
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from app.text import masked  # 3 and 4 kept, as pages show it

# ID numbers and mobiles as they appear: unbroken (with a final X), or grouped by single spaces
# or dashes the way people type them (370102 19900101 1237, 138-0013-8000).
_UNBROKEN = re.compile(r"(?<![0-9])[0-9]{11,}(?:[Xx](?![A-Za-z]))?")
# Groups may be split by up to three of: spaces, tabs, dots, dashes, underscores, slashes.
_GROUPED = re.compile(
    r"(?<![0-9])[0-9]{1,8}(?:[ \t.\-_/]{1,3}[0-9]{1,8}){1,8}"
    r"(?:[ \t.\-_/]{0,3}[Xx](?![A-Za-z]))?"
)
_PERSONAL_LENGTHS = {11, 15, 18}  # a mobile, an old and a new ID number


def mask(text: str) -> str:
    """The text with every ID number and mobile masked (first 3 and last 4 kept); unchanged
    when it holds none. A request line is searched as decoded (%20370102... is an ID number),
    and when something is masked the decoded, masked line is what is logged."""
    view = unquote_plus(text) if ("%" in text or "+" in text) else text
    if not view.isascii():
        view = unicodedata.normalize("NFKC", view)  # ３７０１０２ is 370102
    masked = _GROUPED.sub(_mask_grouped, _UNBROKEN.sub(_mask_run, view))
    return masked if masked != view else text


def _mask_run(match: re.Match) -> str:
    return masked("".join(ch for ch in match.group() if ch.isalnum()).upper())


def _mask_grouped(match: re.Match) -> str:
    """Within a run of grouped digits, every stretch of whole groups as long as a mobile or
    an ID number is masked ("+86 138 0013 8000": the last three groups)."""
    parts = _SEPARATORS.split(match.group())  # groups at even places, separators between
    groups = parts[::2]
    out, i = [], 0
    while i < len(groups):
        for j in range(len(groups), i, -1):
            if sum(len(g) for g in groups[i:j]) in _PERSONAL_LENGTHS:
                out.append(masked("".join(groups[i:j]).upper()))
                i = j
                break
        else:
            out.append(groups[i])
            i += 1
        if i < len(groups):
            out.append(parts[2 * i - 1])
    return "".join(out)


_SEPARATORS = re.compile(r"([ \t.\-_/]+)")


def _mask_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: logging reports it itself when it formats
        return record
    masked = mask(message)
    if masked != message:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            # Its formatter reads the arguments (address, method, path, version, status).
            record.args = tuple(mask(a) if isinstance(a, str) else a for a in record.args)
        else:
            record.msg, record.args = masked, ()
    if record.exc_info and record.exc_info[0] is not None:
        # Formatters use exc_text when it is set, so the raw traceback is never written.
        record.exc_text = mask("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    if record.stack_info:
        record.stack_info = mask(record.stack_info)
    return record


_installed = False


def install() -> None:
    """Idempotent: create_app and the command line both call it."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        return _mask_record(make_record(*args, **kwargs))

    logging.setLogRecordFactory(masked_record)
    _installed = True


# One line per record, for the operator's collector (settings.log_format "json") or a
# developer's terminal ("text"). The request's id is on every line logged while it is served;
# the access line (app/middleware.AccessLog) adds the fields below.
ACCESS_FIELDS = ("route", "method", "status", "duration_ms", "user_id")
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestContext(logging.Filter):
    """Puts the current request's id on each record: handlers of every logger get it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),  # masked when the record was made
            "request_id": getattr(record, "request_id", None),
        }
        for field in ACCESS_FIELDS:
            if hasattr(record, field):
                line[field] = getattr(record, field)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text  # masked too (_mask_record)
        if record.stack_info:
            line["stack"] = record.stack_info
        # A value passed in `extra` is not part of the message: masked here, as a last guard.
        return json.dumps(
            {k: mask(v) if isinstance(v, str) and k != "time" else v for k, v in line.items()},
            ensure_ascii=False,
        )


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{f}={getattr(record, f)}" for f in ACCESS_FIELDS if hasattr(record, f))
        return mask(super().format(record) + (f" {extra}" if extra else ""))


def formatter(format: str = "json") -> logging.Formatter:
    return JsonFormatter() if format == "json" else TextFormatter()


def config(log_format: str, level: str = "INFO") -> dict:
    """For logging.config.dictConfig and uvicorn.run(log_config=...): one handler on the root
    logger (stderr), which uvicorn's and Huey's loggers reach by propagation."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": "app.logs.RequestContext"}},
        "formatters": {"line": {"()": "app.logs.formatter", "format": log_format}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "filters": ["request"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            **{
                name: {"handlers": [], "propagate": True}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "huey")
            },
            # Each certificate's six rendering steps and each font subset at INFO: noise.
            "weasyprint.progress": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
            "alembic.runtime.plugins": {"level": "WARNING"},
        },
    }


def configure(log_format: str) -> None:
    """For processes uvicorn does not start: the worker, the commands."""
    logging.config.dictConfig(config(log_format))
