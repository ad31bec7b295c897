"""Resolving ``module:function`` references named in datasets (targets, custom scorers)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def resolve(reference: str) -> Callable[..., Any]:
    """The callable named by ``module:function`` (dots allowed after the colon for attributes).

    Raises ``ValueError`` with a one-line reason when the reference is malformed, the module
    cannot be imported, or the attribute is missing or not callable.
    """
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"{reference!r} is not of the form 'module:function'")
    try:
        target: object = importlib.import_module(module_name)
    except Exception as error:  # any import-time failure makes the reference unusable
        hint = " (is the project on sys.path? pytest's `pythonpath` option can add it)"
        extra = hint if isinstance(error, ModuleNotFoundError) else ""
        raise ValueError(
            f"cannot import {module_name!r}: {type(error).__name__}: {error}{extra}"
        ) from None
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ValueError(f"module {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"{reference!r} is not callable")
    return target
