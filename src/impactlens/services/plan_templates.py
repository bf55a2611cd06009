"""Commented impact-plan templates for common learning programs.

The templates are YAML files shipped as package data in ``services/templates/``.
Each one's first line is a comment with its one-line description, and the token
``__PROGRAM__`` stands for the program id that ``impactlens init`` fills in.
"""

from __future__ import annotations

import difflib
import json
import re
from importlib import resources
from importlib.resources.abc import Traversable

import yaml

from impactlens.domain.errors import ImpactLensError

DEFAULT_TEMPLATE = "blank"
_PLACEHOLDER = "__PROGRAM__"
_PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _folder() -> Traversable:
    return resources.files("impactlens.services").joinpath("templates")


def _files() -> dict[str, Traversable]:
    return {
        f.name.removesuffix(".yaml"): f
        for f in _folder().iterdir()
        if f.is_file() and f.name.endswith(".yaml")
    }


def _description(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return first.lstrip("#").strip()


def list_templates() -> list[tuple[str, str]]:
    """The available templates as (name, one-line description), sorted by name.

    Examples:
        >>> names = [name for name, _ in list_templates()]
        >>> "blank" in names and "sales-enablement" in names
        True
    """
    files = _files()
    return [(name, _description(files[name].read_text("utf-8"))) for name in sorted(files)]


def _yaml_id(program: str) -> str:
    """The program id as a YAML scalar that reads back as exactly this string."""
    # A plain id stays plain unless YAML would read it as something else
    # (``true``, ``null``, ``0x1F``, ``2026-01-01``).
    if _PLAIN_ID.fullmatch(program) and yaml.safe_load(program) == program:
        return program
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(program)


def render_template(name: str, program: str) -> str:
    """The plan text of template ``name`` with ``program`` as its program id.

    Raises:
        ImpactLensError: the template does not exist (the message lists those that
            do), or the program id is empty or has spaces.

    Examples:
        >>> text = render_template("onboarding", "onboarding-2026")
        >>> "program: onboarding-2026" in text
        True
    """
    files = _files()
    if name not in files:
        close = difflib.get_close_matches(name, list(files), n=1, cutoff=0.75)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ImpactLensError(
            f"unknown plan template {name!r}; {hint}available: {', '.join(sorted(files))}"
        )
    if not program or any(c.isspace() for c in program):
        raise ImpactLensError(
            f"program id {program!r} must be non-empty and without spaces, e.g. 'sales-onboarding'"
        )
    return files[name].read_text("utf-8").replace(_PLACEHOLDER, _yaml_id(program))
