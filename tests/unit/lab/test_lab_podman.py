"""The lab against real podman: up, up again (no change), status, down (nothing left).

Uses its own lab name, network, subnet and state directory so that it never
touches a lab that is running on the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from edgeops.errors import EdgeopsError
from edgeops.lab import podman as pm
from edgeops.lab import ssh
from edgeops.lab.image import IMAGE_REPO
from edgeops.lab.manager import Lab, LabConfig
from edgeops.lab.topology import LabHost


def podman_works() -> bool:
    if shutil.which("podman") is None or os.geteuid() != 0:
        return False
    proc = subprocess.run(["podman", "info"], capture_output=True, env=pm.podman_env(), check=False)
    return proc.returncode == 0


pytestmark = [
    pytest.mark.podman,
    pytest.mark.skipif(not podman_works(), reason="needs root and a working podman"),
]

HOSTS = (
    LabHost("edgeops-labtest-master", ("k8s_master",), "10.213.9.10", 8192, etcd_disk=True),
    LabHost("edgeops-labtest-db", ("mysql",), "10.213.9.30", 16384),
    LabHost("edgeops-labtest-light", ("k8s_worker",), "10.213.9.40", 2048, light=True),
)


@pytest.fixture
def lab(tmp_path):
    if pm.Podman().image_id(f"{IMAGE_REPO}:bookworm") is None:
        pytest.skip("lab image not built (scripts/test.sh builds it before the unit tests)")
    config = LabConfig(
        distro="bookworm", state_dir=tmp_path / "state", inventory_dir=tmp_path / "inv",
        hosts=HOSTS, name="edgeops-labtest", subnet="10.213.9.0/24", standin_dir=None,
    )
    the_lab = Lab(config)
    yield the_lab
    the_lab.down()


def test_up_twice_then_down_leaves_nothing(lab):
    first = lab.up()
    assert any("created edgeops-labtest-master" in a for a in first)
    backing = lab.config.state_dir / "edgeops-labtest-master-etcd-disk.img"
    assert backing.exists()
    assert backing.stat().st_blocks == 0  # sparse: nothing written yet
    device = pm.losetup_find(backing)
    assert device and device.startswith("/dev/loop")

    # SSH: up logged in to each host as the lab user with the pinned host key and ran sudo.
    files = lab.ssh_files
    pinned = files.known_hosts.read_text().splitlines()
    for host in HOSTS:
        key = lab.podman("exec", host.name, "cat", ssh.HOST_KEY).stdout
        assert f"{host.address},{host.name} {ssh.parse_public_key(key, host.name)}" in pinned
    assert oct(files.private_key.stat().st_mode & 0o777) == "0o600"
    # Pipelining with become needs sudo without requiretty: neither Debian's sudoers nor ours sets it.
    assert lab.podman("exec", HOSTS[0].name, "visudo", "-c").returncode == 0
    grep = lab.podman("exec", HOSTS[0].name, "grep", "-rs", "requiretty", "/etc/sudoers", "/etc/sudoers.d",
                      check=False)
    assert grep.returncode == 1, grep.stdout

    assert lab.up() == []  # second run changes nothing

    # A host whose key is not the pinned one is refused (no trust on first use).
    other = lab.podman("exec", HOSTS[1].name, "cat", ssh.HOST_KEY).stdout
    files.known_hosts.write_text(ssh.known_hosts_text([(HOSTS[0].name, HOSTS[0].address, other)]))
    with pytest.raises(EdgeopsError, match="Host key verification failed"):
        ssh.check_login(files, "edgeops", HOSTS[0].address, HOSTS[0].name)

    rows = {r.name: r for r in lab.status()}
    assert rows["edgeops-labtest-master"].state == "running"
    assert rows["edgeops-labtest-master"].systemd in ("running", "degraded")
    assert rows["edgeops-labtest-master"].etcd_disk == device
    # systemd is PID 1 and the container sees its etcd disk.
    proc = lab.podman("exec", "edgeops-labtest-master", "sh", "-c", f"cat /proc/1/comm; test -b {device}")
    assert proc.stdout.strip() == "systemd"
    # The host's global sysctls are read-only inside (edgeops-init).
    proc = lab.podman("exec", "edgeops-labtest-db", "sh", "-c", "echo 1 > /proc/sys/fs/file-max", check=False)
    assert proc.returncode != 0 and "Read-only file system" in proc.stderr
    # A light host (edgeops-init --light): sshd is PID 1, no systemd, the same read-only sysctls;
    # up logged in to it over SSH like the others (above).
    proc = lab.podman("exec", "edgeops-labtest-light", "sh", "-c",
                      "cat /proc/1/comm; test -d /run/systemd/system", check=False)
    assert proc.stdout.strip() == "sshd" and proc.returncode == 1
    proc = lab.podman("exec", "edgeops-labtest-light", "sh", "-c", "echo 1 > /proc/sys/vm/overcommit_memory",
                      check=False)
    assert proc.returncode != 0 and "Read-only file system" in proc.stderr

    actions = lab.down()
    assert "removed edgeops-labtest-master" in actions
    assert lab.podman.containers_with_label("io.edgeops.lab=edgeops-labtest") == []
    assert not backing.exists()
    assert not files.directory.exists()  # the key pair and known_hosts went with the lab
    losetup = subprocess.run(["losetup", "-a"], capture_output=True, text=True, check=True).stdout
    assert str(backing) not in losetup
    assert lab.down() == []  # down on no lab is fine
