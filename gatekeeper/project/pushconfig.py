"""The keys the pre-push hook needs, read from the pushed commit itself.

What is pushed decides, not the working tree the push is made from (whose ``pyproject.toml`` may
hold uncommitted edits): the hook reads ``pyproject.toml`` at the root of the pushed commit,
where it gates. Only ``push-merge``, ``base`` and ``pass-env`` are read here, and checked against
their :class:`~gatekeeper.config.Option`; the rest of the table is the gate's to validate, which it
does in the temporary worktree (so a key a plugin declares is not an error here).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gatekeeper.config import CORE_OPTIONS, PYPROJECT, Option
from gatekeeper.errors import ConfigError
from gatekeeper.git import repository

_OPTIONS: Final = {option.key: option for option in CORE_OPTIONS}


@dataclass(frozen=True, slots=True)
class PushSettings:
    """``merge``: gate the commit merged onto the remote's base; ``base``: the configured base;
    ``pass_env``: the variables its gate receives besides the fixed list (docs/trust.md)."""

    merge: bool = True
    base: str | None = None
    pass_env: tuple[str, ...] = ()


def read(start: Path, commit: str) -> PushSettings:
    """The push settings of ``commit``'s ``pyproject.toml``; the defaults when it has none.

    Raises :class:`ConfigError` naming the commit's file when it is not TOML or a key has the
    wrong type: the hook fails closed rather than guess.
    """
    where = f"{PYPROJECT} of the pushed commit {commit[:12]}"
    text = _blob_text(start, f"{commit}:{PYPROJECT}")
    if text is None:
        return PushSettings()
    table = _gatekeeper_table(text, where)
    merge = _value(table, _OPTIONS["push-merge"], where)
    base = _value(table, _OPTIONS["base"], where)
    names = _value(table, _OPTIONS["pass-env"], where)
    assert isinstance(merge, bool) and (base is None or isinstance(base, str))
    assert isinstance(names, list)
    return PushSettings(merge, base or None, tuple(str(name) for name in names))


def _blob_text(start: Path, spec: str) -> str | None:
    """The text of the blob ``spec`` (``COMMIT:PATH``) names; None when there is none."""
    done = repository.git(start, "cat-file", "blob", spec, check=False)
    return done.stdout if done.returncode == 0 else None


def _gatekeeper_table(text: str, where: str) -> dict[str, object]:
    import tomllib  # here, not at the top: only the hook pays for it

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where}: cannot read it as TOML ({error}). Fix the file.") from None
    tool = document.get("tool", {})
    table = tool.get("gatekeeper", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [tool.gatekeeper] must be a table.")
    return table


def _value(table: dict[str, object], option: Option, where: str) -> object:
    if option.name not in table:
        return option.default
    value = table[option.name]
    if option.kind == "list":
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return _ruled(option, value, where)
        raise ConfigError(f"{where}: {option.display} must be a list of strings, got {value!r}.")
    expected = bool if option.kind == "bool" else str
    if isinstance(value, expected):
        return value
    wanted = "true or false" if option.kind == "bool" else "a string"
    raise ConfigError(f"{where}: {option.display} must be {wanted}, got {value!r}.")


def _ruled(option: Option, value: object, where: str) -> object:
    """``value`` when the option's own rule accepts it (``pass-env``: no steering variable)."""
    refused = option.rule(value) if option.rule is not None else None
    if refused is not None:
        raise ConfigError(f"{where}: {option.display} {refused}; got {value!r}.")
    return value
