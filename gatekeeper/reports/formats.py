"""The CI report formats written next to the JSON report, chosen by ``report-format``.

A plain dict of writers, like every other registry here. Without ``report-format`` set, all of
them are written when running inside GitHub Actions (``GITHUB_ACTIONS=true``) and none otherwise,
so the same command gives rich CI output and a quiet local run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from gatekeeper.config import Settings
from gatekeeper.model import Report
from gatekeeper.reports import github, junit, sarif

FORMATS: Final = ("github", "sarif", "junit")
KEY: Final = "report-format"


def sarif_path(json_report: Path) -> Path:
    """Where the SARIF log goes: beside the JSON report (``report.json`` -> ``report.sarif``)."""
    return json_report.with_suffix(".sarif")


def junit_path(json_report: Path) -> Path:
    """Where the JUnit XML goes: beside the JSON report (``report.junit.xml``)."""
    return json_report.with_suffix(".junit.xml")


Writer = Callable[[Report, Path, Mapping[str, str]], None]


def _github(report: Report, _json_report: Path, env: Mapping[str, str]) -> None:
    github.write(report, env)


def _sarif(report: Report, json_report: Path, _env: Mapping[str, str]) -> None:
    sarif.write(report, sarif_path(json_report))


def _junit(report: Report, json_report: Path, _env: Mapping[str, str]) -> None:
    junit.write(report, junit_path(json_report))


WRITERS: Final[dict[str, Writer]] = {"github": _github, "sarif": _sarif, "junit": _junit}


def chosen(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """The formats to write: the configured ones, else all of them inside GitHub Actions."""
    if KEY in settings.explicit:
        return settings.strings(KEY)
    return list(FORMATS) if env.get("GITHUB_ACTIONS") == "true" else []


def write(report: Report, settings: Settings, json_report: Path, env: Mapping[str, str]) -> None:
    """Write every chosen format for ``report`` whose JSON report is at ``json_report``."""
    for name in chosen(settings, env):
        WRITERS[name](report, json_report, env)
