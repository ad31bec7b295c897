"""Secrets stay secret: no password of any URL reaches the JSON report, a cached result, a setup
message or the terminal, and API keys travel only over https (or to a loopback host)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper import config
from gatekeeper.ci.require import GitHub
from gatekeeper.errors import ConfigError, UsageError
from gatekeeper.redaction import redact
from gatekeeper.resources.databases.base import Template
from gatekeeper.resources.databases.sqlite import SqliteBackend
from gatekeeper.resources.identity import Identity
from gatekeeper.resources.locks import ResourceError
from tests.gate_runs import run_gate

SECRET = "s3cr/t@word"  # a "/" and an "@", as generated passwords have
URL = f"postgresql://gate:{SECRET}@127.0.0.1:5432/postgres"
TESTS_ONLY = '\n[tool.gatekeeper]\nchecks = ["tests"]\n'
LEAKY_TEST = f"""\
def test_connects() -> None:
    url = {URL!r}
    assert url.endswith("/app"), url
"""


def test_a_database_url_given_on_the_command_line_never_reaches_the_report(
    pytester: pytest.Pytester, project: Callable[..., Path]
) -> None:
    project({"tests/test_leaky.py": LEAKY_TEST}, gatekeeper=TESTS_ONLY)

    run = run_gate(pytester, f"--gatekeeper-database-url={URL}", subprocess=True)

    text = (pytester.path / ".gatekeeper" / "report.json").read_text()
    assert "s3cr" not in text
    assert (
        run.report["config"]["database"]["url"] == "postgresql://gate:***@127.0.0.1:5432/postgres"
    )
    # The failing test's message held the URL too: the finding keeps the rest of it.
    (message,) = [f["message"] for f in run.check("tests")["findings"]]
    assert "postgresql://gate:***@127.0.0.1:5432/postgres" in message
    # gatekeeper's own section; pytest's short summary after it is pytest's (and, with CI set,
    # not cut to the terminal's width: it prints the test's own message whole).
    section = run.result.stdout.str().split("= gatekeeper =")[-1]
    assert "s3cr" not in section.split("short test summary info")[0]
    cache = pytester.path / ".git" / "gatekeeper"
    assert not any("s3cr" in p.read_text() for p in cache.rglob("*.json"))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (URL, "postgresql://gate:***@127.0.0.1:5432/postgres"),
        ("redis://:tok3n@cache:6379/0", "redis://:***@cache:6379/0"),
        ("PGPASSWORD=hunter2 psql -h db", "PGPASSWORD=*** psql -h db"),
        ("host=db password='two words' user=u", "host=db password='***' user=u"),
        ("db?sslmode=require&password=hunter2&x=1", "db?sslmode=require&password=***&x=1"),
        ('{"user": "u", "password": "hunter2"}', '{"user": "u", "password": "***"}'),
        ("DATABASES = {'PASSWORD': 'hunter2'}", "DATABASES = {'PASSWORD': '***'}"),
        ("password: hunter2", "password: ***"),
        ("3 passed, bypass=1", "3 passed, bypass=1"),
    ],
)
def test_every_password_form_is_masked(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_a_failing_setup_masks_every_form_it_prints(state: Path, tmp_path: Path) -> None:
    said = '{"password": "hunter2"}', f"url={URL}"
    command = f'{sys.executable} -c "print({said!r}); raise SystemExit(3)"'
    with pytest.raises(ResourceError) as caught:
        SqliteBackend(60.0).create(Template("k1", command, tmp_path), Identity("/wt", "r"), "main")
    assert "hunter2" not in str(caught.value) and "s3cr" not in str(caught.value)
    assert "exit status 3" in str(caught.value)


def neon_api(tmp_path: Path, url: str) -> config.Settings:
    (tmp_path / "pyproject.toml").write_text(f'[tool.gatekeeper.database]\nneon-api = "{url}"\n')
    return config.load(tmp_path)


def test_the_neon_api_must_be_https(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        neon_api(tmp_path, "http://console.neon.tech/api/v2")
    message = str(caught.value)
    assert "[tool.gatekeeper.database] neon-api must be an https URL" in message
    assert str(tmp_path / "pyproject.toml") in message
    assert "\n" not in message
    # https anywhere, and plain http only to a loopback host (a local stand-in or proxy).
    for fine in ("https://neon.example/api/v2", "http://127.0.0.1:8080/api/v2", "http://[::1]/v2"):
        assert neon_api(tmp_path, fine).text("database.neon-api") == fine


def test_the_neon_api_over_http_is_refused_on_the_command_line_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="command line --gatekeeper-database-neon-api"):
        config.load(tmp_path, overrides={"database.neon-api": "http://neon.example/api/v2"})


def test_the_github_api_must_be_https() -> None:
    with pytest.raises(UsageError, match="is not https: the token would travel in clear"):
        GitHub("token", "http://github.example/api/v3")
