"""Scrubs Tripletex tokens from log records, whoever logs them (our code, requests, urllib3, Celery)."""

import logging
import re

# Query-string and JSON forms of the token parameters Tripletex uses, and Basic/Bearer credentials.
_PATTERNS = [
    re.compile(r"(?i)((?:consumerToken|employeeToken|sessionToken|token)[\"']?\s*[=:]\s*[\"']?)[^&\s\"',}]+"),
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
    """Logging filter: formats the record once, redacts it, and freezes the result as its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True
