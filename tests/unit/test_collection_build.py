"""The collection builds, installs into an empty path, and documents every plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's ansible-galaxy / ansible-doc
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())

# Plugin directories and the ansible-doc type that lists them.
PLUGIN_TYPES = {"modules": "module", "filter": "filter", "inventory": "inventory", "callback": "callback"}


def _run(*argv: str, env: dict[str, str] | None = None) -> str:
    argv = (str(BIN / argv[0]), *argv[1:])
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False,
                          env={**os.environ, **(env or {})})
    assert proc.returncode == 0, f"{' '.join(argv)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    _run("ansible-galaxy", "collection", "build", "--output-path", str(out), ".")
    tarball = out / f"edgeops-gitops-{GALAXY['version']}.tar.gz"
    assert tarball.exists()
    dest = out / "installed"
    _run("ansible-galaxy", "collection", "install", "--offline", "--force", "-p", str(dest), str(tarball))
    return tarball, dest


def test_metadata():
    assert (GALAXY["namespace"], GALAXY["name"], GALAXY["version"]) == ("edgeops", "gitops", "0.1.0")
    for field in ("license", "repository", "documentation", "issues"):
        assert GALAXY.get(field), field
    runtime = yaml.safe_load((ROOT / "meta/runtime.yml").read_text())
    assert runtime["requires_ansible"].startswith(">=")


def test_dependencies_are_the_collections_used():
    """galaxy.yml lists exactly the collections the content refers to by FQCN."""
    used = set()
    for path in [*ROOT.glob("roles/**/*.yml"), *ROOT.glob("playbooks/*.yml"), *ROOT.glob("plugins/**/*.py")]:
        text = path.read_text()
        for coll in ("ansible.posix", "community.general", "community.mysql", "containers.podman"):
            if coll + "." in text:
                used.add(coll)
    assert set(GALAXY["dependencies"]) == used


def test_tarball_holds_collection_content_only(installed):
    tarball = installed[0]
    with tarfile.open(tarball) as tf:
        names = tf.getnames()
    top = {n.split("/")[0] for n in names}
    assert {"plugins", "roles", "playbooks", "meta", "README.md", "MANIFEST.json"} <= top
    for excluded in ("edgeops", "bench", "molecule", "scripts", ".ci", "pyproject.toml", ".cache", ".venv"):
        assert excluded not in top, excluded
    assert not any(n.startswith("inventory/lab/hosts.yml") for n in names)


def test_ansible_doc_lists_every_plugin(installed):
    dest = installed[1]
    # Only the installed copy, not the checkout's .cache link.
    cfg = dest / "ansible.cfg"
    cfg.write_text("[defaults]\n")
    env = {"ANSIBLE_COLLECTIONS_PATH": str(dest), "ANSIBLE_CONFIG": str(cfg)}
    for directory, doc_type in PLUGIN_TYPES.items():
        expected = {
            f"edgeops.gitops.{p.stem}"
            for p in (ROOT / "plugins" / directory).glob("*.py")
            if not p.name.startswith("_")
        }
        listed = json.loads(_run("ansible-doc", "-t", doc_type, "-l", "edgeops.gitops", "--json", env=env))
        assert set(listed) == expected, doc_type
        for name in expected:
            doc = json.loads(_run("ansible-doc", "-t", doc_type, "--json", name, env=env))
            assert doc[name]["doc"].get("short_description"), name
