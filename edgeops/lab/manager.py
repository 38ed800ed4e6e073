"""Bring the lab up, report on it and take it down.

State that outlives a command (which loop device backs which host's etcd
disk) is kept in ``<state dir>/state.json``; the backing files live beside it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from edgeops.errors import EdgeopsError
from edgeops.lab import kubernetes as k8s
from edgeops.lab import podman as pm
from edgeops.lab import ssh
from edgeops.lab.image import INIT, RECIPE_LABEL, ImageRecipe, check_distro, ensure_image
from edgeops.lab.topology import ETCD_DISK_SIZE, NETWORK, REFERENCE, SUBNET, LabHost
from edgeops.report import write_atomic

LAB_LABEL = "io.edgeops.lab"
DEFAULT_STATE_DIR = Path("/var/lib/edgeops/lab")
STANDIN_DEST = "/usr/local/lib/edgeops-standin"
#: tests/standin/ of the checkout this package runs from, if any.
CHECKOUT_STANDINS = Path(__file__).resolve().parents[2] / "tests" / "standin"
#: How the inventory reaches the hosts: over SSH as users do (default), or podman exec.
CONNECTIONS: tuple[str, ...] = ("ssh", "podman")


@dataclass(frozen=True)
class LabConfig:
    """Everything a lab command needs, in one typed value."""

    distro: str = "bookworm"
    state_dir: Path = DEFAULT_STATE_DIR
    inventory_dir: Path = Path("inventory/lab")
    hosts: tuple[LabHost, ...] = REFERENCE
    boot_timeout: float = 90.0
    #: Names the podman network and the label value that marks this lab's containers.
    name: str = NETWORK
    subnet: str = SUBNET
    standin_dir: Path | None = CHECKOUT_STANDINS
    #: ``ssh``: a non-root user with sudo, the lab key, pinned host keys; ``podman``: podman exec as root.
    connection: str = "ssh"
    user: str = ssh.LAB_USER
    #: A Kubernetes release to bring up for real (``--kubernetes``): its nodes get what
    #: edgeops/lab/kubernetes.py describes instead of the kubeadm stand-ins.  None: as always.
    kubernetes: str | None = None


@dataclass(frozen=True)
class HostStatus:
    """What ``lab status`` reports for one host."""

    name: str
    state: str  # running / exited / absent / ...
    systemd: str  # running / degraded / starting / -
    address: str
    image: str
    etcd_disk: str


def _say(msg: str) -> None:
    print(f"lab: {msg}", file=sys.stderr, flush=True)


class Lab:
    """The lab on this machine."""

    def __init__(self, config: LabConfig, podman: pm.Podman | None = None) -> None:
        self.config = config
        self.podman = podman or pm.Podman()
        self._k8s_build: Path | None = None

    # -- state -----------------------------------------------------------------
    @property
    def _state_file(self) -> Path:
        return self.config.state_dir / "state.json"

    def _backing_file(self, host: LabHost) -> Path:
        return self.config.state_dir / f"{host.name}-etcd-disk.img"

    @property
    def ssh_files(self) -> ssh.SshFiles:
        """The lab's key pair and known_hosts (``<state dir>/ssh``)."""
        return ssh.SshFiles(self.config.state_dir / "ssh")

    def _load_state(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self._state_file.read_text(encoding="utf-8"))
            return data
        except FileNotFoundError:
            return {}

    def _save_state(self, state: dict[str, Any]) -> None:
        write_atomic(self._state_file, json.dumps(state, indent=2, sort_keys=True) + "\n")

    # -- up --------------------------------------------------------------------
    def up(self) -> list[str]:
        """Create or start every host; return a line per action taken (empty: nothing to do)."""
        check_distro(self.config.distro)
        release = k8s.release(self.config.kubernetes) if self.config.kubernetes else None
        self.podman.ensure_usable()
        self._k8s_build = k8s.build_dir() if release else None
        actions: list[str] = []
        image, built = ensure_image(self.config.distro, self.podman)
        if built:
            actions.append(f"built image {image}")
        net = self.config.name
        if not self.podman.network_exists(net):
            self.podman("network", "create", "--subnet", self.config.subnet, net)
            actions.append(f"created network {net} ({self.config.subnet})")
        state = self._load_state()
        disks: dict[str, str] = state.setdefault("etcd_disks", {})
        for host in self.config.hosts:
            device = self._ensure_disk(host, actions) if host.etcd_disk else None
            if device:
                disks[host.name] = device
            actions.extend(self._ensure_container(host, image, device))
        state["distro"] = self.config.distro
        self._save_state(state)
        self._wait_booted()
        if release:
            actions.extend(self._prepare_kubernetes(release))
        else:
            actions.extend(self._install_standins())
        if self.config.connection == "ssh":
            actions.extend(self._setup_ssh())
        if self._write_inventory(disks):
            actions.append(f"wrote {self.config.inventory_dir / 'hosts.yml'}")
        return actions

    def _ensure_disk(self, host: LabHost, actions: list[str]) -> str:
        backing = self._backing_file(host)
        if not backing.exists():
            backing.parent.mkdir(parents=True, exist_ok=True)
            with backing.open("wb") as fh:
                fh.truncate(ETCD_DISK_SIZE)
            actions.append(f"created sparse etcd disk {backing}")
        device = pm.losetup_find(backing)
        if device is None:
            device = pm.losetup_attach(backing)
            actions.append(f"attached {backing.name} to {device}")
        return device

    def _is_k8s(self, host: LabHost) -> bool:
        return any(g.startswith("k8s_") for g in host.groups)

    def _ensure_container(self, host: LabHost, image: str, device: str | None) -> list[str]:
        info = self.podman.container(host.name)
        want_k8s = self.config.kubernetes if self._is_k8s(host) else None
        if info is not None:
            labels = info.get("Config", {}).get("Labels", {}) or {}
            if labels.get(LAB_LABEL) != self.config.name:
                raise EdgeopsError(
                    f"a container named {host.name} exists and is not part of the lab",
                    hint=f"remove or rename it (podman rm -f {host.name}) and run 'edgeops lab up' again",
                )
            if labels.get(k8s.KUBERNETES_LABEL) != want_k8s:
                have = labels.get(k8s.KUBERNETES_LABEL)
                was = f"for Kubernetes {have}" if have else "without --kubernetes"
                want = f"for Kubernetes {want_k8s}" if want_k8s else "without --kubernetes"
                raise EdgeopsError(
                    f"{host.name} was created {was}, not {want}",
                    hint="'edgeops lab down' first, then 'edgeops lab up' with the options you want",
                )
            if info["State"]["Running"]:
                if info.get("Image") != self.podman.image_id(image):
                    _say(f"{host.name} runs an older image; 'edgeops lab down' then 'up' to rebuild it")
                return []
            self.podman("start", host.name)
            return [f"started {host.name}"]
        args = [
            "run",
            "--detach",
            "--name",
            host.name,
            "--hostname",
            host.name,
            "--network",
            self.config.name,
            "--ip",
            host.address,
            "--privileged",
            "--systemd=false" if host.light else "--systemd=always",
            "--label",
            f"{LAB_LABEL}={self.config.name}",
            "--label",
            f"{RECIPE_LABEL}={ImageRecipe(self.config.distro).digest}",
        ]
        if device:
            args += ["--device", device]
        if want_k8s and self._k8s_build is not None:
            args += ["--label", f"{k8s.KUBERNETES_LABEL}={want_k8s}", *k8s.podman_args(self._k8s_build)]
        self.podman(*args, image, INIT, *(["--light"] if host.light else []))
        return [f"created {host.name} ({host.address})"]

    def _wait_booted(self) -> None:
        deadline = time.monotonic() + self.config.boot_timeout
        pending = [h.name for h in self.config.hosts if not h.light]  # light: sshd is PID 1, up at once
        while pending:
            pending = [n for n in pending if self._systemd_state(n) not in ("running", "degraded")]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise EdgeopsError(
                    f"systemd did not finish booting in {', '.join(pending)} "
                    f"within {self.config.boot_timeout:.0f}s",
                    hint=f"look at: podman logs {pending[0]}",
                )
            time.sleep(1)

    def _prepare_kubernetes(self, release: k8s.Release) -> list[str]:
        """Make each Kubernetes host able to run a real node (lab-only; see edgeops/lab/kubernetes.py)."""
        actions: list[str] = []
        k8s_hosts = [h for h in self.config.hosts if self._is_k8s(h)]
        for index, host in enumerate(k8s_hosts):
            script = k8s.prepare_script(release, "k8s_master" in host.groups, k8s.node_subnet(index))
            out = self.podman("exec", host.name, "sh", "-c", script).stdout
            actions.extend(f"{host.name}: {line}" for line in out.splitlines() if line.strip())
        return actions

    def _install_standins(self) -> list[str]:
        """Copy the kubeadm/kubelet/kubectl stand-ins into the Kubernetes hosts.

        Real kubeadm and kubelet binaries cannot be downloaded here, so the lab's
        Kubernetes nodes get the stand-ins from ``tests/standin/`` (they validate
        what they are given like the real ones and say they are stand-ins).
        Only when running from a checkout that has them; copied when they differ.
        """
        src = self.config.standin_dir
        if src is None or not src.is_dir():
            return []
        files = sorted(
            (p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts),
            key=lambda p: str(p.relative_to(src)),  # the order `sort` gives in the container
        )
        local = "\n".join(
            f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {STANDIN_DEST}/{p.relative_to(src)}"
            for p in files
        )
        actions = []
        for host in self.config.hosts:
            if not any(g.startswith("k8s_") for g in host.groups):
                continue
            remote = self.podman(
                "exec",
                host.name,
                "sh",
                "-c",
                f"cd / && find {STANDIN_DEST} -type f ! -path '*__pycache__*' | sort | xargs -r sha256sum",
                check=False,
            ).stdout.strip()
            if remote == local:
                continue
            self.podman("exec", host.name, "rm", "-rf", STANDIN_DEST)
            self.podman("cp", f"{src}/.", f"{host.name}:{STANDIN_DEST}")
            links = " ".join(
                f"ln -sfn {STANDIN_DEST}/{p.name} /usr/local/bin/{p.name};"
                for p in files
                if p.parent == src and p.stat().st_mode & 0o111
            )
            if links:
                self.podman("exec", host.name, "sh", "-c", links)
            actions.append(f"installed the kubeadm stand-ins on {host.name}")
        return actions

    def _setup_ssh(self) -> list[str]:
        """Key pair, user with sudo on every host, pinned host keys; then prove each login works."""
        files = self.ssh_files
        actions = [f"created the lab key pair {files.private_key}"] if ssh.ensure_keypair(files) else []
        script = ssh.user_setup_script(self.config.user, files.public_key.read_text(encoding="utf-8"))
        entries = []
        for host in self.config.hosts:
            done = self.podman("exec", host.name, "sh", "-c", script).stdout.split("\n")
            actions.extend(f"{host.name}: {line}" for line in done if line.strip())
            key = self.podman("exec", host.name, "cat", ssh.HOST_KEY, check=False)
            if key.returncode != 0:
                raise EdgeopsError(f"{host.name} has no SSH host key ({ssh.HOST_KEY})",
                                   hint=f"look at: podman exec {host.name} systemctl status ssh")
            entries.append((host.name, host.address, key.stdout))
        if ssh.write_if_changed(files.known_hosts, ssh.known_hosts_text(entries), mode=0o644):
            actions.append(f"pinned {len(entries)} host keys in {files.known_hosts}")
        for host in self.config.hosts:
            ssh.check_login(files, self.config.user, host.address, host.name)
        return actions

    def _connection_vars(self, host: LabHost) -> dict[str, Any]:
        """Host variables that say how Ansible reaches ``host``."""
        if self.config.connection == "podman":
            return {}
        return {"ansible_host": host.address}

    def _group_connection_vars(self) -> dict[str, Any]:
        """``all`` variables for the chosen connection."""
        if self.config.connection == "podman":
            return {"ansible_connection": "containers.podman.podman"}
        files = self.ssh_files
        return {
            "ansible_connection": "ssh",
            "ansible_user": self.config.user,
            "ansible_become": True,
            "ansible_become_method": "sudo",
            "ansible_ssh_private_key_file": str(files.private_key.resolve()),
            "ansible_ssh_common_args": ssh.SshFiles(files.directory.resolve()).common_args(),
        }

    def _systemd_state(self, name: str) -> str:
        proc = self.podman("exec", name, "systemctl", "is-system-running", check=False)
        return proc.stdout.strip() or "-"

    def _write_inventory(self, disks: dict[str, str]) -> bool:
        """Write inventory/lab/hosts.yml; return True when its content changed."""
        groups: dict[str, dict[str, Any]] = {}
        for host in self.config.hosts:
            hv: dict[str, Any] = {
                **self._connection_vars(host),
                "edgeops_lab_address": host.address,
                "edgeops_lab_memory_mb": host.memory_mb,
                **host.hostvars,
            }
            if host.name in disks:
                hv["etcd_storage_device"] = disks[host.name]
            if self.config.kubernetes and self._is_k8s(host):
                # Host variables: they win over inventory/lab/group_vars/all (the stand-ins' release).
                hv.update(k8s.inventory_vars(k8s.release(self.config.kubernetes)))
            for group in host.groups:
                groups.setdefault(group, {"hosts": {}})["hosts"][host.name] = hv
        inventory = {
            "all": {
                "vars": {
                    **self._group_connection_vars(),
                    "ansible_python_interpreter": "/usr/bin/python3",
                },
                "children": {
                    "k8s_cluster": {
                        "children": {g: groups.pop(g) for g in ("k8s_master", "k8s_worker") if g in groups},
                    },
                    **groups,
                },
            }
        }
        text = (
            "---\n"
            "# Written by `edgeops lab up`: the reference topology on this machine.\n"
            "# Do not edit; group_vars/ and host_vars/ beside it are yours.\n"
            + yaml.safe_dump(inventory, sort_keys=False, default_flow_style=False)
        )
        path = self.config.inventory_dir / "hosts.yml"
        if path.exists() and path.read_text(encoding="utf-8") == text:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return True

    # -- status ----------------------------------------------------------------
    def status(self) -> list[HostStatus]:
        """One HostStatus per topology host."""
        self.podman.ensure_usable()
        disks = self._load_state().get("etcd_disks", {})
        rows = []
        for host in self.config.hosts:
            info = self.podman.container(host.name)
            if info is None:
                rows.append(
                    HostStatus(host.name, "absent", "-", host.address, "-", disks.get(host.name, "-"))
                )
                continue
            running = bool(info["State"]["Running"])
            rows.append(
                HostStatus(
                    name=host.name,
                    state=str(info["State"]["Status"]),
                    systemd=self._systemd_state(host.name) if running else "-",
                    address=host.address,
                    image=str(info.get("ImageName") or info.get("Image", "-")),
                    etcd_disk=disks.get(host.name, "-"),
                )
            )
        return rows

    # -- down ------------------------------------------------------------------
    def _remove_container(self, name: str, attempts: int = 3) -> None:
        """``podman rm``, then make sure the container is gone (an open exec session can keep it)."""
        for attempt in range(attempts):
            self.podman("rm", "--force", "--time", "5", name, check=attempt == attempts - 1)
            if self.podman.container(name) is None:
                return
            time.sleep(3)
        raise EdgeopsError(f"podman rm did not remove {name}",
                           hint=f"look at: podman ps -a --filter name={name}; podman rm -f {name}")

    def down(self) -> list[str]:
        """Remove containers, the network, loop devices, backing files, the SSH keys and known_hosts."""
        self.podman.ensure_usable()
        actions: list[str] = []
        for name in self.podman.containers_with_label(f"{LAB_LABEL}={self.config.name}"):
            self._remove_container(name)
            actions.append(f"removed {name}")
        if self.podman.network_exists(self.config.name):
            self.podman("network", "rm", "--force", self.config.name)
            actions.append(f"removed network {self.config.name}")
        for host in self.config.hosts:
            backing = self._backing_file(host)
            device = pm.losetup_find(backing) if backing.exists() else None
            if device:
                pm.losetup_detach(device)
                actions.append(f"detached {device}")
            if backing.exists():
                backing.unlink()
                actions.append(f"deleted {backing}")
        if self._state_file.exists():
            self._state_file.unlink()
        if self.ssh_files.directory.exists():
            shutil.rmtree(self.ssh_files.directory)
            actions.append(f"deleted the lab key pair and known_hosts ({self.ssh_files.directory})")
        inv = self.config.inventory_dir / "hosts.yml"
        if inv.exists():
            inv.unlink()
            actions.append(f"deleted {inv}")
        return actions
