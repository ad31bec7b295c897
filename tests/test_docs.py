"""Documentation is part of the product: every configuration key is in the reference."""

from __future__ import annotations

import re
import shlex
import subprocess
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


# -- the README's quickstart works today ----------------------------------------------------------

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
# `pip install pytest-gatekeeper` (with extras or a version): the package index has no such
# distribution before the first release, so such an instruction fails on a fresh machine.
INDEX_INSTALL = re.compile(
    r"pip install\s+(?:-\S+\s+)*['\"]?pytest-gatekeeper(?:\[[^\]]*\])?(?:[=<>~!][^\s'\"`]*)?"
    r"['\"]?(?=[\s`]|$)(?!\s*@)",
    re.MULTILINE,
)


@pytest.mark.parametrize(
    "page", ["README.md", *sorted(p.name for p in (ROOT / "docs").glob("*.md"))]
)
def test_no_page_installs_from_the_package_index_before_the_first_release(page: str) -> None:
    path = ROOT / page if page == "README.md" else ROOT / "docs" / page
    found = INDEX_INSTALL.findall(path.read_text())
    assert found == [], f"{page} tells users to install an unpublished name: {found}"


def bash_block(text: str, heading: str) -> list[str]:
    section = text.split(f"\n{heading}\n", 1)[1]
    return section.split("```bash\n", 1)[1].split("\n```", 1)[0].splitlines()


def test_the_readme_quickstart_works_on_a_fresh_project(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    lines = bash_block(README, "## 60-second example")
    assert lines[0].startswith("GATEKEEPER=") and 'pip install "$GATEKEEPER"' in lines
    # "$GATEKEEPER" is a clone of this repository; this suite runs from an installation of it,
    # so the install line's outcome is what this environment already has.
    assert 'name = "pytest-gatekeeper"' in (ROOT / "pyproject.toml").read_text()
    script = [f"GATEKEEPER={shlex.quote(str(ROOT))}"]
    statuses = 0
    for number, line in enumerate(lines[1:], start=2):
        if line == 'pip install "$GATEKEEPER"':
            continue
        command, _, comment = line.partition("  #")
        wanted = re.search(r"exit status (\d+)", comment)
        expected = int(wanted.group(1)) if wanted else 0
        statuses += bool(wanted)
        script.append(
            f"{command}\nstatus=$?\n[ $status -eq {expected} ] || "
            f"{{ echo 'README line {number} exited '$status', not {expected}' >&2; exit 99; }}"
        )
    assert statuses >= 3  # the example says what each gate run exits with
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=tmp_path,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    assert "gatekeeper passed" in done.stdout and "F401" in done.stdout
