"""The pinned real projects: which release, its digest, its test dependencies, how it is adopted.

Both set ``filterwarnings = error``, and both are imported by gatekeeper's own dependencies
(pytest imports pluggy before any plugin runs; httpx imports click when it is installed), which
is what makes them the hard cases for coverage and for starting pytest.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``old`` (which must occur exactly once) with ``new`` in ``path``."""

    path: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Project:
    """One pinned release and what the tests do with it."""

    name: str
    version: str
    # sha256 of the source distribution on the package index: a changed artifact fails loudly.
    sha256: str
    # The dependency group in the project's pyproject.toml that its test suite needs.
    test_group: str
    # The package directory, relative to the project root.
    package: str
    # Appended to pyproject.toml when the gate is adopted (the baseline comes on top).
    adoption: str
    # A change that makes at least one of the project's own tests fail.
    breaking: Edit
    # Extra options for `coverage run` so coverage.py measures what the gate measures.
    coverage_args: tuple[str, ...] = ()
    # Environment for installing the project (editable) from its git checkout.
    install_env: dict[str, str] = field(default_factory=dict)

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def sdist(self) -> str:
        return f"{self.name}-{self.version}.tar.gz"


CLICK = Project(
    name="click",
    version="8.5.1",
    sha256="9bbfada76703fd1d784b83eea012e3e8c6a001a876543ef104fa56aaaeb072b4",
    test_group="tests",
    package="src/click",
    # coverage.py measures 90.79% of this release (its own `source = ["click", "tests"]`).
    adoption="\n[tool.gatekeeper.coverage]\nfail-under = 90\n",
    breaking=Edit(
        "src/click/utils.py", "    return str(value)\n", "    return str(value).upper()\n"
    ),
)

PLUGGY = Project(
    name="pluggy",
    version="1.7.0",
    sha256="d1eaa46ebb595891b860ab086b4d09c8588af65ebd4361b8e8f4bb8920b90ba8",
    test_group="testing",
    package="src/pluggy",
    # coverage.py measures 99.91% of src/pluggy under pluggy's own test suite.
    adoption="\n[tool.gatekeeper.coverage]\nfail-under = 99\n",
    # pluggy's .coveragerc selects files with `include` (its tests too) and sets no `source`;
    # the gate then measures its `paths` (src/pluggy), so the reference measures the same.
    coverage_args=("--source=src/pluggy",),
    breaking=Edit(
        "src/pluggy/_manager.py",
        "return any(plugin == val for val in self._name2plugin.values())",
        "return not any(plugin == val for val in self._name2plugin.values())",
    ),
    # setuptools-scm reads the version from git, and this repository has no release tags.
    install_env={"SETUPTOOLS_SCM_PRETEND_VERSION_FOR_PLUGGY": "1.7.0"},
)

PROJECTS = {project.name: project for project in (CLICK, PLUGGY)}
