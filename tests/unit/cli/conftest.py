"""Helpers for CLI tests: recorded event streams and the report schema."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "tests" / "unit" / "fixtures" / "events"
SCHEMA = ROOT / "docs" / "drift-report.schema.json"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def stream(name: str) -> Iterator[dict[str, Any]]:
    """Replay one recorded ansible-runner event stream, event by event."""
    with (EVENTS / f"{name}.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


@pytest.fixture
def report_schema() -> dict[str, Any]:
    return json.loads(SCHEMA.read_text(encoding="utf-8"))
