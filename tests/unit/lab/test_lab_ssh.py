"""The lab's SSH side without containers: key pair, known_hosts, the user script, the inventory."""

from __future__ import annotations

import base64
import shlex
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from edgeops.errors import EdgeopsError
from edgeops.lab import ssh
from edgeops.lab.manager import Lab, LabConfig
from edgeops.lab.topology import REFERENCE


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _fake_key(kind: str = "ssh-ed25519", blob_kind: str | None = None) -> str:
    name = (blob_kind or kind).encode()
    blob = len(name).to_bytes(4, "big") + name + len(b"k" * 32).to_bytes(4, "big") + b"k" * 32
    return f"{kind} {base64.b64encode(blob).decode()} root@somewhere\n"


def test_keypair_created_private_and_reused(tmp_path: Path) -> None:
    files = ssh.SshFiles(tmp_path / "state" / "ssh")
    assert ssh.ensure_keypair(files) is True
    assert _mode(files.directory) == 0o700
    assert _mode(files.private_key) == 0o600
    pub = files.public_key.read_text()
    assert ssh.parse_public_key(pub, "pub").startswith("ssh-ed25519 ")
    before = files.private_key.read_bytes()
    files.private_key.chmod(0o644)  # someone loosened it: ssh would refuse the key
    assert ssh.ensure_keypair(files) is False
    assert files.private_key.read_bytes() == before
    assert _mode(files.private_key) == 0o600
    files.public_key.unlink()  # the public half is derived again from the private key
    assert ssh.ensure_keypair(files) is False
    assert files.public_key.read_text().split()[:2] == pub.split()[:2]


def test_known_hosts_pins_address_and_name(tmp_path: Path) -> None:
    key = _fake_key()
    text = ssh.known_hosts_text([("k8s-master-01", "10.213.7.10", key), ("mysql-01", "10.213.7.30", key)])
    lines = text.splitlines()
    assert lines[0] == "10.213.7.10,k8s-master-01 " + " ".join(key.split()[:2])  # comment dropped
    assert lines[1].startswith("10.213.7.30,mysql-01 ssh-ed25519 ")
    # ssh-keygen reads it as a known_hosts file and finds the host by address.
    kh = tmp_path / "known_hosts"
    kh.write_text(text)
    proc = subprocess.run(["ssh-keygen", "-F", "10.213.7.30", "-f", str(kh)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0 and "mysql-01" in proc.stdout


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "is not an OpenSSH public key"),
        ("cat: /etc/ssh/ssh_host_ed25519_key.pub: No such file or directory", "is not an OpenSSH public key"),
        ("ssh-ed25519 not!base64", "its key data is not base64"),
        (_fake_key("ssh-ed25519", blob_kind="ssh-rsa"), "is not a ssh-ed25519 key"),
    ],
)
def test_bad_host_key_is_refused_naming_the_host(key: str, problem: str) -> None:
    with pytest.raises(EdgeopsError) as err:
        ssh.known_hosts_text([("k8s-worker-2", "10.213.7.22", key)])
    assert err.value.message.startswith("the host key of k8s-worker-2 is not an OpenSSH public key")
    assert problem in err.value.message


def test_write_if_changed(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    assert ssh.write_if_changed(path, "a\n", mode=0o644) is True
    assert _mode(path) == 0o644
    assert ssh.write_if_changed(path, "a\n") is False
    assert ssh.write_if_changed(path, "b\n") is True
    assert path.read_text() == "b\n"
    assert [p.name for p in tmp_path.iterdir()] == ["known_hosts"]


def test_user_setup_script_is_shell_and_checks_sudoers() -> None:
    script = ssh.user_setup_script("edgeops", _fake_key())
    assert subprocess.run(["sh", "-n"], input=script, text=True, check=False).returncode == 0
    assert "visudo -cqf" in script
    assert script.index("visudo -cqf") < script.index('mv "$d.tmp" "$d"')  # checked before it is installed
    assert "edgeops ALL=(ALL:ALL) NOPASSWD: ALL" in script
    assert "requiretty" not in script


@pytest.mark.parametrize("user", ["root; rm -rf /", "Edgeops", "", "a" * 40])
def test_user_setup_script_refuses_bad_user(user: str) -> None:
    with pytest.raises(EdgeopsError, match="is not a valid user name"):
        ssh.user_setup_script(user, _fake_key())


def _inventory(tmp_path: Path, **kw: object) -> dict:
    lab = Lab(LabConfig(state_dir=tmp_path / "s", inventory_dir=tmp_path / "inv", **kw))  # type: ignore[arg-type]
    lab._write_inventory({"k8s-master-01": "/dev/loop7"})
    return yaml.safe_load((tmp_path / "inv" / "hosts.yml").read_text())["all"]


def _hosts(data: dict) -> dict[str, dict]:
    cluster = data["children"]["k8s_cluster"]["children"]
    return {**cluster["k8s_master"]["hosts"], **cluster["k8s_worker"]["hosts"],
            **data["children"]["mysql"]["hosts"]}


def test_inventory_speaks_ssh_as_a_user_with_sudo(tmp_path: Path) -> None:
    data = _inventory(tmp_path)
    v = data["vars"]
    state = (tmp_path / "s").resolve()
    assert v["ansible_connection"] == "ssh"
    assert v["ansible_user"] == "edgeops"
    assert v["ansible_become"] is True and v["ansible_become_method"] == "sudo"
    assert v["ansible_ssh_private_key_file"] == str(state / "ssh" / "id_ed25519")
    assert shlex.split(v["ansible_ssh_common_args"]) == [
        "-o", f"UserKnownHostsFile={state / 'ssh' / 'known_hosts'}", "-o", "StrictHostKeyChecking=yes",
    ]
    hosts = _hosts(data)
    assert {n: h["ansible_host"] for n, h in hosts.items()} == {h.name: h.address for h in REFERENCE}


def test_inventory_quotes_a_state_dir_with_spaces(tmp_path: Path) -> None:
    data = _inventory(tmp_path / "my lab")
    args = shlex.split(data["vars"]["ansible_ssh_common_args"])
    assert args[1] == f"UserKnownHostsFile={(tmp_path / 'my lab' / 's').resolve() / 'ssh' / 'known_hosts'}"


def test_inventory_podman_connection_keeps_podman_exec(tmp_path: Path) -> None:
    data = _inventory(tmp_path, connection="podman")
    assert data["vars"]["ansible_connection"] == "containers.podman.podman"
    assert "ansible_user" not in data["vars"] and "ansible_become" not in data["vars"]
    # The podman connection takes the container's name from ansible_host: it must not be an address.
    assert all("ansible_host" not in h for h in _hosts(data).values())


class _NoPodman:
    """A podman with no lab on it (down's calls only)."""

    def ensure_usable(self) -> None:
        pass

    def containers_with_label(self, label: str) -> list[str]:
        return []

    def network_exists(self, name: str) -> bool:
        return False


def test_down_deletes_keys_and_known_hosts(tmp_path: Path) -> None:
    lab = Lab(LabConfig(state_dir=tmp_path / "s", inventory_dir=tmp_path / "inv"), podman=_NoPodman())  # type: ignore[arg-type]
    ssh.ensure_keypair(lab.ssh_files)
    ssh.write_if_changed(lab.ssh_files.known_hosts, "x\n")
    actions = lab.down()
    assert not lab.ssh_files.directory.exists()
    assert f"deleted the lab key pair and known_hosts ({lab.ssh_files.directory})" in actions
    assert lab.down() == []
