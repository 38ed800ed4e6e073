"""Fixtures shared by the plugin tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

#: A /proc/sys stand-in: files (key -> content) and links (key -> real kernel file).
PROC_TREE = yaml.safe_load((Path(__file__).parent / "module_utils" / "sysctl_proc_tree.yml").read_text())


@pytest.fixture
def proc_tree(tmp_path: Path) -> Path:
    """A /proc/sys stand-in built from module_utils/sysctl_proc_tree.yml."""
    root = tmp_path / "proc"
    for rel, text in PROC_TREE["files"].items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    for rel, target in PROC_TREE["links"].items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(target)
    return root
