"""``types``: mypy with JSON output (``-O json``); the project's own mypy configuration applies,
never one above the project's root or the user's own (:func:`config_args`).

Exit status 2 means mypy could not run (a broken plugin, a bad option). It still prints a JSON
line in some of those cases, so the exit status decides, never the output. The one exception: a
source file that does not parse also stops mypy with exit 2, and then every line it prints is an
error with code ``syntax`` in a ``.py``/``.pyi`` file. That is a finding about the user's code.
"""

from __future__ import annotations

import configparser
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from gatekeeper.checks import mypycache
from gatekeeper.checks.base import CheckContext
from gatekeeper.checks.tools import python_module, require_module, run_tool
from gatekeeper.config import Option, Settings, read_toml
from gatekeeper.errors import ToolError
from gatekeeper.model import CheckResult, Finding, Severity, Status
from gatekeeper.process import Completed
from gatekeeper.project.paths import relative


class TypesCheck:
    name = "types"
    description = "mypy"
    needs_session = False

    def options(self) -> Sequence[Option]:
        return ()

    def run(self, context: CheckContext) -> CheckResult:
        require_module("mypy", "mypy")
        settings = context.settings
        paths = targets(context.root, settings, context.paths)
        cache = mypycache.cache_dir(context.root, context.worktree)
        sources = mypycache.snapshot(context.root)
        mypycache.revalidate(cache, sources)
        argv = python_module(
            "mypy",
            "-O",
            "json",
            "--no-error-summary",
            "--no-pretty",
            *config_args(context.root, settings.strings("types.args")),
            *settings.strings("types.args"),
            # Never a cache shared by concurrent processes, and never one whose entries were not
            # checked above: after `types.args` (which may not name one), so it wins.
            "--cache-dir",
            str(cache),
            *paths,
        )
        run = run_tool(argv, context.root, settings.number("types.timeout"))
        mypycache.record(cache, sources)
        findings = parse_mypy(run, context.root)
        errors = [f for f in findings if f.severity is Severity.ERROR]
        return CheckResult(
            self.name,
            Status.FAILED if errors else Status.PASSED,
            f"{len(errors)} error(s)" if errors else "no errors",
            rule="mypy reports no error",
            findings=tuple(errors),
            metrics={"errors": len(errors)},
            ran=(run.command,),
        )


def targets(root: Path, settings: Settings, detected: Sequence[str]) -> list[str]:
    """What mypy is told to check: ``[tool.gatekeeper.types] paths`` when set; nothing when the
    project's mypy configuration names its own ``files`` (mypy then checks exactly those, as
    the project runs it); else the detected source paths."""
    configured = settings.strings("types.paths")
    if configured:
        return configured
    if mypy_files(root, settings.strings("types.args")):
        return []
    return list(detected)


_MYPY_CONFIGS: Final = ("mypy.ini", ".mypy.ini", "pyproject.toml", "setup.cfg")


def mypy_files(root: Path, args: Sequence[str] = ()) -> list[str]:
    """The ``files`` of the mypy configuration mypy reads in ``root``: the one ``--config-file``
    in ``args`` names, else the one :func:`mypy_config` finds. Empty when that configuration
    names none."""
    given = _config_file(args)
    name = given or mypy_config(root)
    section = _mypy_section(root / name, explicit=bool(given)) if name else None
    return _file_list(section.get("files")) if section is not None else []


def mypy_config(root: Path) -> str | None:
    """The configuration file mypy takes from ``root`` itself, as mypy picks it: the first of
    ``mypy.ini``, ``.mypy.ini``, ``pyproject.toml`` with ``[tool.mypy]`` and ``setup.cfg`` with
    ``[mypy]``; None when there is none."""
    return next((name for name in _MYPY_CONFIGS if _mypy_section(root / name) is not None), None)


def config_args(root: Path, args: Sequence[str] = ()) -> list[str]:
    """mypy's ``--config-file`` for a run in ``root``: the project's own file, else one holding
    no configuration; never one above ``root`` (mypy searches up to the repository's root) or
    the user's (``~/.config/mypy/config``), which a clean checkout in CI does not have. None
    when ``args`` (``types.args``) names a file itself."""
    if _config_file(args):
        return []
    found = mypy_config(root)
    if found is not None:
        return ["--config-file", found]
    # A file without mypy's table is no configuration: mypy says nothing for a pyproject.toml
    # and notes "No [mypy] section" for any other.
    return [
        "--config-file",
        "pyproject.toml" if (root / "pyproject.toml").is_file() else os.devnull,
    ]


def _config_file(args: Sequence[str]) -> str | None:
    for index, arg in enumerate(args):
        if arg.startswith("--config-file="):
            return arg.partition("=")[2]
        if arg == "--config-file" and index + 1 < len(args):
            return args[index + 1]
    return None


def _mypy_section(path: Path, *, explicit: bool = False) -> Mapping[str, object] | None:
    """The mypy section of ``path``; None when the file is absent or has none to give."""
    if not path.is_file():
        return None
    if path.suffix == ".toml":
        tool = read_toml(path).get("tool")  # a broken file: mypy reports it itself
        section = tool.get("mypy") if isinstance(tool, dict) else None
        return section if isinstance(section, dict) else None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    if parser.has_section("mypy"):
        return dict(parser["mypy"])
    # mypy reads these whatever they hold; setup.cfg only for its [mypy] section.
    return {} if explicit or path.name in ("mypy.ini", ".mypy.ini") else None


def _file_list(value: object) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    return (
        [str(item).strip() for item in items if str(item).strip()]
        if isinstance(items, list)
        else []
    )


def parse_mypy(run: Completed, root: Path) -> list[Finding]:
    """Findings from mypy's JSON lines, notes dropped (JSON ones, and the plain-text notes on its
    configuration file, :func:`config_note`). Exit 2 or unparsable output is an error, except
    exit 2 for syntax errors alone (:func:`syntax_errors`), which are the findings."""
    syntax = syntax_errors(run, root) if run.returncode == 2 else []
    if syntax:
        return syntax
    if run.returncode not in (0, 1):
        raise ToolError(
            f"`{run.command}` could not run (exit status {run.returncode}): {run.tail()}\n"
            "Fix the mypy configuration (plugins, options) it names."
        )
    findings = []
    for raw in filter(str.strip, run.stdout.splitlines()):
        finding = None if config_note(raw) else _line_finding(run, raw, root)
        if finding is not None:
            findings.append(finding)
    if run.returncode == 1 and not any(f.severity is Severity.ERROR for f in findings):
        raise ToolError(f"`{run.command}` exited 1 without reporting an error: {run.tail()}")
    return findings


def _line_finding(run: Completed, raw: str, root: Path) -> Finding | None:
    """One line of mypy's JSON output as a finding (None for a note); anything else is an error."""
    try:
        return _finding(json.loads(raw), root)
    except (ValueError, TypeError, KeyError) as error:
        raise ToolError(
            f"`{run.command}` printed a line that is not mypy's JSON ({error}): {raw[:300]!r}"
        ) from None


PYTHON_SOURCES = (".py", ".pyi")
# The files mypy reads its configuration from end so (``--config-file`` may name any of them).
CONFIG_SUFFIXES = (".ini", ".cfg", ".toml")


def config_note(line: str) -> bool:
    """Whether ``line`` is mypy's plain-text note about its configuration file, which it prints
    among the JSON lines even with ``-O json``: ``setup.cfg: note: unused section(s): ...``
    (``warn_unused_configs``). A note says nothing about the code: neither a finding nor
    unparsable output. Any other plain text still is."""
    path, separator, message = line.partition(": note: ")
    return bool(separator and message.strip()) and path.strip().endswith(CONFIG_SUFFIXES)


def syntax_errors(run: Completed, root: Path) -> list[Finding]:
    """The findings when everything mypy printed is a syntax error in a Python source file;
    otherwise none (then exit 2 stays an error).

    mypy prints a plugin that cannot be imported as a JSON line on stderr (file ``pyproject.toml``,
    code ``misc``), so a JSON line or a traceback on stderr also means "could not run".
    """
    if "Traceback" in run.stderr or any(map(_is_json, run.stderr.splitlines())):
        return []
    items = []
    for raw in filter(str.strip, run.stdout.splitlines()):
        try:
            item = json.loads(raw)
        except ValueError:
            return []
        if not _is_syntax_error(item):
            return []
        items.append(item)
    return [f for f in (_finding(item, root) for item in items) if f is not None]


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _is_syntax_error(item: object) -> bool:
    return (
        isinstance(item, dict)
        and item.get("code") == "syntax"
        and item.get("severity") == "error"
        and str(item.get("file", "")).endswith(PYTHON_SOURCES)
        and isinstance(item.get("line"), int)
        and isinstance(item.get("column"), int)
        and isinstance(item.get("message"), str)
    )


def _finding(item: dict[str, object], root: Path) -> Finding | None:
    """One JSON line as a finding; None for a note."""
    severity = str(item["severity"])
    if severity == "note":
        return None
    line, column = item["line"], item["column"]
    if not isinstance(line, int) or not isinstance(column, int):
        raise TypeError(f"line {line!r} and column {column!r} must be whole numbers")
    return Finding(
        check="types",
        path=relative(root / str(item["file"]), root),
        line=line,
        column=column + 1,  # mypy counts columns from 0
        code=str(item.get("code") or "mypy"),
        message=str(item["message"]),
        severity=Severity.ERROR if severity == "error" else Severity.WARNING,
    )
