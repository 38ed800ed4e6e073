"""The lab against real podman: up, up again (no change), status, down (nothing left).

Uses its own lab name, network, subnet and state directory so that it never
touches a lab that is running on the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from edgeops.lab import podman as pm
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

    assert lab.up() == []  # second run changes nothing

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

    actions = lab.down()
    assert "removed edgeops-labtest-master" in actions
    assert lab.podman.containers_with_label("io.edgeops.lab=edgeops-labtest") == []
    assert not backing.exists()
    losetup = subprocess.run(["losetup", "-a"], capture_output=True, text=True, check=True).stdout
    assert str(backing) not in losetup
    assert lab.down() == []  # down on no lab is fine
