"""What the isolation fixtures print when something goes wrong: never a secret, never a
traceback for bad configuration, and plain pytest never breaks because of them."""

from __future__ import annotations

import pytest

# They use (and sweep) the one PostgreSQL server: never beside each other.
pytestmark = pytest.mark.xdist_group("postgres-server")

PASSWORD = "s3cret-pw-4711"


def with_password(admin: str) -> str:
    """The admin URL with a password (ignored by this machine's trust authentication)."""
    return admin.replace("postgres@", f"postgres:{PASSWORD}@", 1)


def test_a_failing_assertion_on_the_database_never_prints_its_password(
    pytester: pytest.Pytester, postgres_admin: str, state: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEKEEPER_DATABASE_URL", with_password(postgres_admin))
    pytester.makepyprojecttoml('[tool.gatekeeper.database]\nbackend = "postgres"\n')
    pytester.makepyfile(
        test_db="""
        def test_fails(gatekeeper_database):
            assert gatekeeper_database is None
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    output = result.stdout.str() + result.stderr.str()
    assert "Database(url=" in output  # the repr is shown...
    assert PASSWORD not in output  # ...without the password
    assert "postgres:***@" in output
