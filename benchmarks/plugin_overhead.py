"""What plain ``pytest`` pays for the plugin being installed (it should pay nothing measurable).

Runs a small real project's suite with the plugin loaded (as installed) and with it blocked by
``-p no:gatekeeper``, alternating, and prints the median ratio.

    python benchmarks/plugin_overhead.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import compare, summarise

TESTS = "".join(f"def test_{i}() -> None:\n    assert {i} + 1 == {i + 1}\n\n\n" for i in range(50))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text("[project]\nname = 'bench'\nversion = '0'\n")
        (root / "test_many.py").write_text(TESTS)
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        times = compare(
            {"plugin installed": pytest, "plugin blocked": [*pytest, "-p", "no:gatekeeper"]},
            root,
            args.repeats,
        )
    print(summarise(times, "plugin blocked"))


if __name__ == "__main__":
    main()
