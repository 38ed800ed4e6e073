"""meta/execution-environment.yml: valid for the real ansible-builder (version 3) and consistent
with what the collection and the command line declare (galaxy.yml, pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
EE_FILE = ROOT / "meta" / "execution-environment.yml"
EE = yaml.safe_load(EE_FILE.read_text())
BUILDER = Path(sys.executable).parent / "ansible-builder"


@pytest.fixture(scope="module")
def build_context(tmp_path_factory):
    """``ansible-builder create``: validates the file against its schema and writes the context."""
    context = tmp_path_factory.mktemp("ee-context")
    result = subprocess.run(
        [str(BUILDER), "create", "-f", str(EE_FILE), "-c", str(context)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return context


def test_builder_version_3_context(build_context):
    assert EE["version"] == 3
    containerfile = (build_context / "Containerfile").read_text()
    assert f'ARG EE_BASE_IMAGE="{EE["images"]["base_image"]["name"]}"' in containerfile
    assert "ansible-core" in containerfile and "ansible-runner" in containerfile


def test_python_and_system_needs(build_context):
    python = (build_context / "_build" / "requirements.txt").read_text()
    assert "PyMySQL" in python
    assert "edgeops @ git+" in python  # the command line the GitLab CI jobs run
    system = (build_context / "_build" / "bindep.txt").read_text()
    assert "openssh-clients" in system


def test_collections_cover_galaxy_dependencies(build_context):
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    requirements = yaml.safe_load((build_context / "_build" / "requirements.yml").read_text())
    names = {c["name"] for c in requirements["collections"]}
    assert set(galaxy.get("dependencies") or {}) <= names
    assert any("edgeops/gitops" in n for n in names)  # the collection itself


def test_ansible_versions_match_the_command_line():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = {d.split(">")[0].split("<")[0].split("=")[0].strip(): d for d in project["dependencies"]}
    for key, name in (("ansible_core", "ansible-core"), ("ansible_runner", "ansible-runner")):
        assert EE["dependencies"][key]["package_pip"].replace(" ", "") == deps[name].replace(" ", "")
