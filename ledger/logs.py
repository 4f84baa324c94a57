"""Logging that never puts a stack trace in front of a person.

Libraries we use (pyHanko above all, which logs a traceback for many ordinary forgeries) are
kept off the terminal: each of their warnings becomes one line on ``ecert.libraries``, and the
full record, traceback included, goes to the DEBUG level only. Our own lines are one line each,
tracebacks only at DEBUG.

- ``configure_cli(verbose=False)``: our warnings on stderr, one line; library lines only with
  ``verbose`` (then everything, tracebacks included).
- ``configure_service(level)``: the service log (stderr) at ``level`` (``$ECERT_LOG_LEVEL``,
  default INFO): library summaries at WARNING, tracebacks only at DEBUG.
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["LIBRARIES", "configure_cli", "configure_service", "quiet_libraries"]

LIBRARIES = (
    "pyhanko",
    "pyhanko_certvalidator",
    "fontTools",
    "PIL",
    "web3",
    "urllib3",
    "httpx",
    "httpcore",
    "asyncio",
    "multipart",
    "python_multipart",
)
LEVEL_ENV = "ECERT_LOG_LEVEL"


class OneLine(logging.Formatter):
    """A record on one line: no traceback (its kind is named instead), no newlines."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        kind = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            line = super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved
        if kind:
            line += f" [{kind}]"
        return line.replace("\r", " ").replace("\n", " | ")


class _Summarise(logging.Handler):
    """Re-emits a library's record on ``ecert.libraries``: one line at its own level (WARNING
    and above), the whole record at DEBUG."""

    def emit(self, record: logging.LogRecord) -> None:
        target = logging.getLogger("ecert.libraries")
        if target.isEnabledFor(logging.DEBUG):
            detailed = logging.makeLogRecord(record.__dict__)
            detailed.levelno, detailed.levelname = logging.DEBUG, "DEBUG"
            detailed.name = f"ecert.libraries.{record.name}"
            target.handle(detailed)
        if record.levelno >= logging.WARNING:
            message = record.getMessage().splitlines()[0][:300] if record.msg else ""
            kind = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
            target.log(
                record.levelno, "%s: %s%s", record.name, message, f" [{kind}]" if kind else ""
            )


def quiet_libraries(*, debug: bool = False) -> None:
    """Route the libraries' records through ``_Summarise`` instead of the root logger."""
    for name in LIBRARIES:
        logger = logging.getLogger(name)
        logger.handlers = [_Summarise()]
        logger.propagate = False
        logger.setLevel(logging.DEBUG if debug else logging.WARNING)


def _handler(level: int, *, tracebacks: bool) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(logging.Formatter(fmt) if tracebacks else OneLine(fmt))
    return handler


def configure_cli(*, verbose: bool = False) -> None:
    ecert = logging.getLogger("ecert")
    ecert.handlers = [_handler(logging.DEBUG if verbose else logging.WARNING, tracebacks=verbose)]
    ecert.setLevel(logging.DEBUG if verbose else logging.WARNING)
    ecert.propagate = False
    libraries = logging.getLogger("ecert.libraries")
    libraries.propagate = verbose  # off the terminal unless asked for
    libraries.handlers = [] if verbose else [logging.NullHandler()]
    quiet_libraries(debug=verbose)


def configure_service(level: str | None = None) -> None:
    name = (level or os.environ.get(LEVEL_ENV) or "INFO").upper()
    value = logging.getLevelNamesMapping().get(name, logging.INFO)
    ecert = logging.getLogger("ecert")
    ecert.handlers = [_handler(value, tracebacks=value <= logging.DEBUG)]
    ecert.setLevel(value)
    ecert.propagate = False
    libraries = logging.getLogger("ecert.libraries")
    libraries.propagate, libraries.handlers = True, []
    quiet_libraries(debug=value <= logging.DEBUG)
