"""Scrubs Tripletex tokens from log records, whoever logs them (us, requests, urllib3, Celery).

Attach it to handlers (settings.LOGGING does): filters on a logger do not see records that
propagate up from child loggers such as urllib3.connectionpool.
"""

import logging
import re

# Query-string and JSON forms of the token parameters Tripletex uses, and Basic/Bearer credentials.
_PATTERNS = [
    re.compile(
        r"(?i)((?:consumerToken|employeeToken|sessionToken|token)[\"']?\s*[=:]\s*[\"']?)[^&\s\"',}]+"
    ),
    re.compile(r"(?i)(/token/session/)(?!:create|>whoAmI|%3EwhoAmI)[^/?\s\"']+"),
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:basic|bearer)\s+)[A-Za-z0-9+/=._-]+"),
]
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """Return text with every token value replaced by [redacted]."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Logging filter: formats the record once, redacts message and traceback, freezes them."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        # Exception texts carry URLs too (requests puts the full URL with its query in them).
        # Formatters reuse a cached exc_text, so caching the redacted one is enough.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
