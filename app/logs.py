"""No personal data in any log line: ID numbers and mobiles are masked as records are made.

The code never logs them on purpose, but exception messages may carry a value that was being
handled (openpyxl puts a refused cell's text in its error), and the traceback would write it
to the log. Masking where records are created covers every logger and handler, uvicorn's
included, however they are configured later.
"""

import logging
import re
import traceback
import unicodedata
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
