"""Documentation is part of the product: every configuration key is in the reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.config import CORE_OPTIONS, Option

REFERENCE = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text()


@pytest.mark.parametrize("option", CORE_OPTIONS, ids=lambda o: o.key)
def test_every_key_and_its_option_are_documented(option: Option) -> None:
    heading = (
        f"## `[tool.gatekeeper.{option.section}]`" if option.section else "## `[tool.gatekeeper]`"
    )
    assert heading in REFERENCE
    section = REFERENCE.split(heading, 1)[1].split("\n## ", 1)[0]
    assert f"| `{option.name}` |" in section, f"{option.display} is not documented"
    assert f"`{option.flag}`" in section, f"{option.flag} is not documented"
