"""The ``edgeops`` command line and the lab's bad-input paths (no containers needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edgeops import __version__
from edgeops.cli import main
from edgeops.lab import image
from edgeops.lab.manager import Lab, LabConfig
from edgeops.lab.topology import REFERENCE
from edgeops.rc import RC


def test_version(edgeops_cmd):
    proc = edgeops_cmd("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"edgeops {__version__}"


def test_help_lists_lab(edgeops_cmd):
    proc = edgeops_cmd("--help")
    assert proc.returncode == 0
    assert "lab" in proc.stdout
    assert "2 drift found" in proc.stdout


def test_usage_error_is_not_the_drift_code(capsys):
    rc = main(["no-such-command"])
    assert rc == RC.USAGE != RC.DRIFT
    err = capsys.readouterr().err
    assert err.startswith("Error: ")
    assert "Hint: run 'edgeops --help'" in err


def test_unknown_distro_one_line_and_nothing_created(edgeops_cmd, tmp_path, fake_bin):
    # A podman that records any call: the distro must be refused before podman runs.
    calls = tmp_path / "podman-calls"
    fake_bin("podman", f'echo "$@" >> {calls}\nexit 0\n')
    state, inv = tmp_path / "state", tmp_path / "inv"
    proc = edgeops_cmd(
        "lab", "up", "--distro", "nosuch", "--state-dir", str(state), "--inventory-dir", str(inv),
        env={"PATH": f"{fake_bin.dir}:/usr/bin:/bin"},
    )
    assert proc.returncode == RC.USAGE
    lines = proc.stderr.strip().splitlines()
    assert lines == ["Error: unknown distro 'nosuch': accepted values are bookworm, trixie"]
    assert not state.exists() and not inv.exists() and not calls.exists()


def test_podman_missing_says_how_to_install(edgeops_cmd, tmp_path):
    proc = edgeops_cmd("lab", "status", "--state-dir", str(tmp_path), env={"PATH": "/nonexistent"})
    assert proc.returncode == RC.ERROR
    assert "Error: podman is not installed" in proc.stderr
    assert "Hint: install it with: apt-get install podman" in proc.stderr


def test_podman_unusable_reports_its_error(edgeops_cmd, tmp_path, fake_bin):
    fake_bin("podman", 'echo "Error: cannot connect to the storage backend" >&2\nexit 125\n')
    proc = edgeops_cmd("lab", "up", "--state-dir", str(tmp_path / "s"),
                       env={"PATH": f"{fake_bin.dir}:/usr/bin:/bin"})
    assert proc.returncode == RC.ERROR
    assert "podman is installed but not usable: Error: cannot connect to the storage backend" in proc.stderr
    assert not (tmp_path / "s").exists()


def test_recipe_digest_follows_the_recipe(tmp_path, monkeypatch):
    copy = tmp_path / "image"
    copy.mkdir()
    for f in image.recipe_dir().iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    monkeypatch.setattr(image, "recipe_dir", lambda: copy)
    before = image.ImageRecipe("bookworm").digest
    assert before == image.ImageRecipe("bookworm").digest  # stable
    assert before != image.ImageRecipe("trixie").digest  # per distro
    with (copy / "packages.txt").open("a") as fh:
        fh.write("htop\n")
    assert image.ImageRecipe("bookworm").digest != before
    assert "htop" in image.packages()


def test_packages_have_what_the_roles_rely_on():
    pkgs = set(image.packages())
    assert {"python3", "systemd", "systemd-sysv", "mariadb-server", "etcd-server", "python3-pymysql"} <= pkgs
    assert not any(p.startswith("#") or " " in p for p in pkgs)


def test_inventory_shape(tmp_path: Path):
    lab = Lab(LabConfig(state_dir=tmp_path / "s", inventory_dir=tmp_path / "inv"))
    assert lab._write_inventory({"k8s-master-01": "/dev/loop7"}) is True
    assert lab._write_inventory({"k8s-master-01": "/dev/loop7"}) is False  # unchanged: not rewritten
    text = (tmp_path / "inv" / "hosts.yml").read_text()
    assert text.startswith("---\n")  # a YAML document ansible-lint (production profile) accepts
    data = yaml.safe_load(text)["all"]
    assert data["vars"]["ansible_connection"] == "ssh"  # the default; --connection podman: test_lab_ssh.py
    cluster = data["children"]["k8s_cluster"]["children"]
    assert list(cluster["k8s_master"]["hosts"]) == ["k8s-master-01"]
    assert list(cluster["k8s_worker"]["hosts"]) == ["k8s-worker-0", "k8s-worker-1", "k8s-worker-2"]
    assert list(data["children"]["mysql"]["hosts"]) == ["mysql-01"]
    assert cluster["k8s_master"]["hosts"]["k8s-master-01"]["etcd_storage_device"] == "/dev/loop7"
    mysql = data["children"]["mysql"]["hosts"]["mysql-01"]
    assert mysql["mysql_host_memory_mb"] == 16384  # the reference plan, not the container's RAM
    addresses = [h.address for h in REFERENCE]
    assert len(set(addresses)) == len(addresses)


@pytest.mark.parametrize("distro", image.DISTROS)
def test_check_distro_accepts_known(distro):
    assert image.check_distro(distro) == distro
