"""Where the CI workflow installs gatekeeper from: one pinned pip requirement.

A gate must be reproducible, so the rendered workflow never installs "whatever is newest". By
default it installs exactly the gatekeeper running ``ci init``: the same version from the
package index, or the same commit of the same git URL (read from the installation's
``direct_url.json``, PEP 610). A gatekeeper installed from a local directory cannot be reached
from CI, so ``ci init`` then asks for ``--gatekeeper-from SPEC``: a version, a git or archive
URL, a path inside the repository, or a whole pip requirement.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Final

from gatekeeper.errors import UsageError

DISTRIBUTION: Final = "pytest-gatekeeper"
_VERSION: Final = re.compile(r"v?(\d+(?:\.\d+)*(?:(?:a|b|rc|\.post|\.dev)\d+)*)")
_URL: Final = re.compile(r"^(?:[a-z][a-z0-9+.-]*\+)?[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_NAME: Final = re.compile(rf"^{re.escape(DISTRIBUTION)}(?![a-z0-9_.-])", re.IGNORECASE)
EXAMPLE: Final = f"'git+https://github.com/OWNER/{DISTRIBUTION}@v0.1.0'"


def requirement(spec: str | None) -> str:
    """The pip requirement the workflow installs gatekeeper with: from ``spec``
    (``--gatekeeper-from``), else the installation running this."""
    return from_spec(spec) if spec is not None else from_installation()


def from_spec(spec: str) -> str:
    """``spec`` as a pip requirement: ``0.1.0`` is ``pytest-gatekeeper==0.1.0``; a URL is
    ``pytest-gatekeeper @ URL``; a requirement naming the distribution is kept as it is; a
    path must be relative (CI checks out the repository, nothing else of this machine)."""
    text = spec.strip()
    if not text or any(c in text for c in "\n\r") or "${{" in text:
        raise UsageError(
            f"--gatekeeper-from {spec!r} is not a pip requirement: give a version, a git URL "
            f"such as {EXAMPLE}, or a path inside the repository, on one line."
        )
    found = _VERSION.fullmatch(text)
    if found:
        return f"{DISTRIBUTION}=={found.group(1)}"
    if _NAME.match(text):
        return text
    if _URL.match(text):
        return f"{DISTRIBUTION} @ {text}"
    return _path(text)


def _path(text: str) -> str:
    path = PurePosixPath(text)
    if path.is_absolute() or ".." in path.parts or text.startswith("~"):
        raise UsageError(
            f"--gatekeeper-from {text!r} is a path CI cannot reach: the workflow sees only the "
            f"checked-out repository. Give a path inside it, a version, or a git URL such as "
            f"{EXAMPLE}."
        )
    return text if text == "." or text.startswith("./") else f"./{text}"


def from_installation() -> str:
    """The requirement that installs exactly the gatekeeper running now."""
    try:
        installed = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise UsageError(_local("it is not installed as a distribution")) from None
    text = installed.read_text("direct_url.json")
    if text is None:  # installed from an index
        return f"{DISTRIBUTION}=={installed.version}"
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise UsageError(_local("its direct_url.json cannot be read"))
    return from_direct_url(data)


def from_direct_url(data: Mapping[str, object]) -> str:
    """The requirement for an installation described by ``direct_url.json`` (PEP 610)."""
    url = str(data.get("url", ""))
    vcs = data.get("vcs_info")
    if url.startswith("file:") or not url:
        raise UsageError(_local(f"it was installed from {url or 'an unknown place'}"))
    if isinstance(vcs, dict) and vcs.get("commit_id"):
        return f"{DISTRIBUTION} @ {vcs.get('vcs', 'git')}+{url}@{vcs['commit_id']}"
    return f"{DISTRIBUTION} @ {url}"


def _local(why: str) -> str:
    return (
        f"cannot tell CI where to install gatekeeper from: {why}, which the workflow cannot "
        f"reach. Name the source with --gatekeeper-from SPEC: a version once {DISTRIBUTION} is "
        f"on the package index, a git URL pinned to a tag or commit such as {EXAMPLE}, or a "
        "path inside the repository (docs/ci.md)."
    )
