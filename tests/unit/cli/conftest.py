"""Helpers for CLI tests: the fixture playbooks and the report schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOKS = ROOT / "tests" / "unit" / "fixtures" / "playbooks"
SCHEMA = ROOT / "docs" / "drift-report.schema.json"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def report_schema() -> dict[str, Any]:
    return json.loads(SCHEMA.read_text(encoding="utf-8"))
