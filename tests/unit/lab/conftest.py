"""Fixtures for the lab tests."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def edgeops_cmd():
    """Run the real ``edgeops`` console script; returns CompletedProcess."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "edgeops", *args],
            capture_output=True, text=True, env=full_env, cwd=cwd, check=False,
        )

    return run


@pytest.fixture
def fake_bin(tmp_path: Path):
    """A directory of stand-in executables, for failure cases only (broken podman)."""
    d = tmp_path / "bin"
    d.mkdir()

    def add(name: str, script: str) -> Path:
        p = d / name
        p.write_text("#!/bin/sh\n" + script)
        p.chmod(p.stat().st_mode | stat.S_IEXEC)
        return p

    add.dir = d  # type: ignore[attr-defined]
    return add
