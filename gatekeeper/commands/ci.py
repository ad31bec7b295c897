"""``gatekeeper ci init|require``: the GitHub Actions workflow and its required check."""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path

from gatekeeper.ci import render, source
from gatekeeper.git import repository

HELP = "Render the GitHub Actions workflow, or make its check required on a branch."


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    init = actions.add_parser("init", help="write .github/workflows/gatekeeper.yml")
    init.add_argument("--python", help="Python version (default: detected)")
    init.add_argument("--install", help="install command (default: detected)")
    init.add_argument(
        "--gatekeeper-from",
        metavar="SPEC",
        help="where CI installs gatekeeper: a version, a git URL, a path in the repository, or "
        "a pip requirement (default: exactly the gatekeeper running this)",
    )
    init.add_argument("--branch", default="main", help="base branch pushes are gated on")
    init.add_argument("--no-sarif", action="store_true", help="leave out code-scanning upload")
    init.add_argument(
        "--shards",
        type=int,
        default=1,
        metavar="N",
        help="split the tests over N jobs and combine their results (default: 1, one job)",
    )
    init.add_argument("--force", action="store_true", help="overwrite existing files")
    init.add_argument("--print", action="store_true", help="print instead of writing")
    req = actions.add_parser("require", help="make the gatekeeper check required")
    req.add_argument("--repo", required=True, help="OWNER/NAME")
    req.add_argument("--branch", help="branch to protect (default: the default branch)")
    req.add_argument("--api-url", default=None, help="GitHub API URL (GitHub Enterprise)")


def run(args: argparse.Namespace, rest: list[str]) -> int:
    if args.action == "init":
        return _init(args)
    return _require(args)


def _init(args: argparse.Namespace) -> int:
    start = Path.cwd()
    root = repository.worktree_root(start) or start
    install, cache = render.detect_install(root)
    values = render.Values(
        python_version=args.python or render.detect_python(root),
        install=_with_gatekeeper(root, args.install or install, args),
        cache_path=cache,
        branch=args.branch,
        sarif=not args.no_sarif,
        shards=args.shards,
        durations=render.detect_durations(root),
    )
    if args.print:
        for path, text in render.rendered(values).items():
            print(f"# --- {path}\n{text}")
        return 0
    for path in render.write(root, values, force=args.force):
        print(f"wrote {path}")
    print(f"Python {values.python_version}; install: {values.install}")
    print("Next: commit both files, push, then run `gatekeeper ci require --repo OWNER/NAME`.")
    return 0


def _with_gatekeeper(root: Path, install: str, args: argparse.Namespace) -> str:
    """The install command, plus the pinned gatekeeper requirement: always when
    --gatekeeper-from names one; else unless the command was given (--install) or the project's
    own dependencies already name gatekeeper."""
    if args.gatekeeper_from is None and (args.install or render.mentions_gatekeeper(root)):
        return install
    return f"{install} {shlex.quote(source.requirement(args.gatekeeper_from))}"


def _require(args: argparse.Namespace) -> int:
    from gatekeeper.ci import require as requirement  # needs httpx: the `github` extra

    token = requirement.token_from(os.environ)
    api = args.api_url or os.environ.get("GITHUB_API_URL") or requirement.API
    github = requirement.GitHub(token, api)
    try:
        done = requirement.require(github, args.repo, args.branch)
    finally:
        github.close()
    print(f"{done.mechanism} on {done.branch}: {done.action}")
    print(f"required checks in force on {done.branch}: {', '.join(done.in_force) or 'none'}")
    return 0
