"""What a test needs from the machine, and what happens when it is missing.

On a developer's machine a missing Chromium, Redis or Tripletex spec skips the tests that need it,
with the reason. On CI nothing may skip silently: `.ci/run` sets REQUIRE_BROWSER=1, REQUIRE_REDIS=1
and REQUIRE_SPEC=1, and then the same absence fails the test instead.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIREMENTS = {
    "browser": "REQUIRE_BROWSER",
    "redis": "REQUIRE_REDIS",
    "spec": "REQUIRE_SPEC",
}


def missing(what: str, reason: str) -> NoReturn:
    """Skip the calling test for `reason`, or fail it when `what` is required (CI)."""
    variable = REQUIREMENTS[what]
    if os.environ.get(variable) == "1":
        pytest.fail(f"{reason} ({variable}=1: required here)")
    pytest.skip(reason)
