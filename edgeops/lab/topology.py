"""The reference topology of the original runbook, as lab hosts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NETWORK = "edgeops-lab"
#: Private (RFC 1918) network the lab hosts share, like the runbook's VMs.
SUBNET = "10.213.7.0/24"
ETCD_DISK_SIZE = 8 * 1024**3  # sparse: takes only what is written


@dataclass(frozen=True)
class LabHost:
    """One lab container."""

    name: str
    groups: tuple[str, ...]
    address: str
    memory_mb: int
    etcd_disk: bool = False
    hostvars: dict[str, Any] = field(default_factory=dict)
    #: No systemd: sshd is PID 1 (``edgeops-init --light``). For the bench's extra nodes, reached
    #: over SSH like the rest; roles that manage services need a systemd host.
    light: bool = False


REFERENCE: tuple[LabHost, ...] = (
    LabHost("k8s-master-01", ("k8s_master",), "10.213.7.10", 8192, etcd_disk=True),
    LabHost("k8s-worker-0", ("k8s_worker",), "10.213.7.20", 16384),
    LabHost("k8s-worker-1", ("k8s_worker",), "10.213.7.21", 16384),
    LabHost("k8s-worker-2", ("k8s_worker",), "10.213.7.22", 16384),
    LabHost(
        "mysql-01",
        ("mysql",),
        "10.213.7.30",
        16384,
        hostvars={"mysql_host_memory_mb": 16384, "mysql_host_disk_class": "nvme"},
    ),
)
