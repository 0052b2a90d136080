"""A missing browser, Redis or spec skips on a developer's machine and fails where required (CI)."""

from __future__ import annotations

import pytest

from tests.requirements import missing


@pytest.mark.parametrize(
    ("what", "variable"),
    [("browser", "REQUIRE_BROWSER"), ("redis", "REQUIRE_REDIS"), ("spec", "REQUIRE_SPEC")],
)
def test_missing_fails_when_required_and_skips_otherwise(monkeypatch, what, variable):
    monkeypatch.setenv(variable, "1")
    with pytest.raises(pytest.fail.Exception, match=variable):
        missing(what, "not here")
    monkeypatch.delenv(variable)
    with pytest.raises(pytest.skip.Exception, match="not here"):
        missing(what, "not here")
