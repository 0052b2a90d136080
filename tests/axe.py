"""axe-core, the accessibility rules engine the browser tests inject into pages, fetched from the npm
registry at a pinned version and checked against the registry's sha512 integrity before use.

`make install` runs this module (`python -m tests.axe`), and the `axe_script` fixture calls
`axe_source()`, which fetches it the first time. Nothing of it is committed: the tarball is read from
https://registry.npmjs.org/axe-core/-/axe-core-<version>.tgz (the `dist.tarball` of
`npm view axe-core@<version> dist`), its SHA-512 compared with `dist.integrity` pinned below, and
`package/axe.min.js` kept under var/axe/. Only the Python standard library is used, so CI needs no
Node.js. To move to another release: `npm view axe-core@<version> dist.integrity` (or the
registry's JSON at https://registry.npmjs.org/axe-core/<version>), and change both constants.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
import urllib.request
from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
TARBALL_URL = f"https://registry.npmjs.org/axe-core/-/axe-core-{AXE_VERSION}.tgz"
CACHE_DIR = Path(__file__).resolve().parents[1] / "var" / "axe"
AXE_JS = CACHE_DIR / f"axe-core-{AXE_VERSION}.min.js"


class AxeUnavailable(Exception):
    """The pinned axe-core could not be fetched or did not match its integrity."""


def integrity_of(data: bytes) -> str:
    """The npm `integrity` string (Subresource Integrity form) of a tarball."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def axe_fetch(*, timeout: float = 60.0) -> Path:
    """Download the pinned tarball, verify it, and write axe.min.js into the cache; its path."""
    try:
        with urllib.request.urlopen(TARBALL_URL, timeout=timeout) as response:
            data = response.read()
    except OSError as exc:
        raise AxeUnavailable(f"could not download {TARBALL_URL}: {exc}") from exc
    if (got := integrity_of(data)) != AXE_INTEGRITY:
        raise AxeUnavailable(f"{TARBALL_URL}: integrity {got} is not the pinned {AXE_INTEGRITY}")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        member = archive.extractfile("package/axe.min.js")
        if member is None:
            raise AxeUnavailable(f"{TARBALL_URL} has no package/axe.min.js")
        script = member.read()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = AXE_JS.with_suffix(".partial")
    partial.write_bytes(script)
    partial.replace(AXE_JS)  # atomic: a concurrent reader sees the whole file or none
    return AXE_JS


def axe_source() -> str:
    """The pinned axe.min.js, fetched on first use."""
    path = AXE_JS if AXE_JS.exists() else axe_fetch()
    return path.read_text(encoding="utf-8")


# Runs axe over the document and returns each violation with the nodes it found (selector and
# what is wrong), the shape a failing test prints.
_RUN = """async () => {
  const result = await window.axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }));
}"""


def axe_violations(page, *, impacts: tuple[str, ...] = ("critical", "serious")) -> list[dict]:
    """axe-core's violations of `impacts` on the page as it is now (injected by evaluation, so the
    page's Content-Security-Policy, which forbids inline scripts, does not stand in the way).
    AXE_IMPACTS=critical,serious,moderate,minor in the environment widens what counts (to see
    the lesser findings while working on a page)."""
    if extra := os.environ.get("AXE_IMPACTS"):
        impacts = tuple({*impacts, *extra.split(",")})
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(axe_source())
    return [v for v in page.evaluate(_RUN) if v["impact"] in impacts]


def describe(violations: list[dict]) -> str:
    """Violations as readable lines for an assertion message."""
    lines = []
    for v in violations:
        lines.append(f"{v['impact']}: {v['id']} ({v['help']})")
        for node in v["nodes"][:5]:
            summary = " / ".join((node["summary"] or "").splitlines()[:3])
            lines.append(f"    {node['target']}: {summary}")
        if len(v["nodes"]) > 5:
            lines.append(f"    … and {len(v['nodes']) - 5} more")
    return "\n".join(lines)


if __name__ == "__main__":
    if AXE_JS.exists():
        sys.exit(0)  # already fetched and verified
    try:
        axe_fetch()
    except AxeUnavailable as exc:
        sys.exit(f"axe-core: {exc}")
    print(f"axe-core {AXE_VERSION}: fetched and verified ({AXE_INTEGRITY[:22]}…)")
