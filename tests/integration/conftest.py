"""The collection importable as ``ansible_collections.edgeops.gitops``, as in tests/unit/conftest.py."""

from __future__ import annotations

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).resolve().parents[1] / "unit" / "conftest.py"))
