"""Fixtures for the packaging tests (template.yaml, its SAM transform)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.packaging._support import load_template, sam_transform


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml with short tags (``!Ref``, ``!GetAtt``, ``!Sub``) in their long form."""
    return load_template()


@pytest.fixture(scope="session")
def transformed(template: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation template the SAM transform produces from template.yaml."""
    return sam_transform(template)
