"""Changelog machinery: antsibull-changelog accepts the config, changelog.yaml and every fragment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
TOOL = Path(sys.executable).parent / "antsibull-changelog"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(TOOL), *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )


def test_config_is_for_this_collection():
    config = yaml.safe_load((ROOT / "changelogs" / "config.yaml").read_text())
    assert config["notesdir"] == "fragments"
    assert config["changes_file"] == "changelog.yaml"
    assert config["use_fqcn"] is True
    assert (ROOT / "changelogs" / "fragments").is_dir()


def test_changelog_yaml_is_valid():
    result = run("lint-changelog-yaml", "changelogs/changelog.yaml")
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_every_fragment_lints():
    """One fragment per change; a plain-text entry per line (quote entries that contain ': ')."""
    result = run("lint")
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
