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

# A run of digits as people group them when they type (370102 1990 0101 123X, 138-0013-8000):
# single spaces or dashes between digits. URLs encode them (%20, +), handled before matching.
_NUMBER_RUN = re.compile(r"[0-9](?:[ \-]?[0-9])*(?:[ \-]?[Xx](?![0-9A-Za-z]))?")
LONGEST_KEPT = 10  # an ID number has 15 or 18 characters and a mobile 11: longer runs are masked


def mask(text: str) -> str:
    """Every run of 11 or more digits (and a trailing X) keeps only its first 3 and last 4
    characters: ID numbers and mobiles, however spelt, and any number as long as one."""
    if "%" in text or "+" in text:
        text = unquote_plus(text)  # a request line: %20370102... is " 370102..."
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)  # ３７０１０２ is 370102
    return _NUMBER_RUN.sub(_mask_run, text)


def _mask_run(match: re.Match) -> str:
    run = match.group()
    digits = [ch for ch in run if ch.isalnum()]
    if len(digits) <= LONGEST_KEPT:
        return run
    return "".join(digits[:3]) + "*" * (len(digits) - 7) + "".join(digits[-4:]).upper()


def _masked_arg(value):
    if isinstance(value, (int, float, bool)) or value is None:
        return value  # numbers keep their type for %d; an 18-digit int is masked via str below
    return mask(str(value))


def _masked_args(args):
    if isinstance(args, dict):
        return {key: _masked_arg(value) for key, value in args.items()}
    if isinstance(args, tuple):
        return tuple(_masked_arg(value) for value in args)
    return args


def _mask_record(record: logging.LogRecord) -> logging.LogRecord:
    if isinstance(record.msg, str):
        record.msg = mask(record.msg)
    else:
        record.msg = mask(str(record.msg))
    if record.args:
        # Kept as arguments (not merged into msg): uvicorn's access formatter reads them.
        if isinstance(record.args, tuple) and any(isinstance(a, int) and not isinstance(a, bool)
                                                  and len(str(abs(a))) >= 11 for a in record.args):
            record.msg, record.args = mask(record.getMessage()), ()
        else:
            record.args = _masked_args(record.args)
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
