# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Block device judgement from facts: which disks could hold etcd's data.

Pure logic (no Ansible imports), shared by the etcd_disk_candidates filter.
Facts can never prove a disk empty (a container sees the host's disks but
not the host's mounts; without udev there are no by-uuid links), so this is
only the first sieve: the etcd_storage role probes the chosen device itself
before it writes anything.
"""

from __future__ import annotations

import re
from typing import Any

#: Kernel name prefixes of devices that are not disks of their own.
VIRTUAL_PREFIXES = ("loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd", "drbd", "rbd", "mmcblk0boot")
_NVME_NAMESPACE = re.compile(r"^nvme\d+n\d+$")


def is_nvme_namespace(name: str) -> bool:
    """True for NVMe namespaces (nvme0n1), not controllers or partitions."""
    return bool(_NVME_NAMESPACE.match(name))


def device_bytes(info: dict[str, Any]) -> int:
    """Size in bytes of an ansible_devices entry (``sectors`` are 512-byte units)."""
    try:
        return int(info.get("sectors") or 0) * 512
    except (TypeError, ValueError):
        return 0


def _mounted_devices(mounts: Any) -> dict[str, list[str]]:
    """{device path: [mount points]} from ansible_mounts."""
    found: dict[str, list[str]] = {}
    for mount in mounts or []:
        if isinstance(mount, dict) and mount.get("device"):
            found.setdefault(mount["device"], []).append(mount.get("mount", "?"))
    return found


def _natural_key(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def rejection_reasons(name: str, info: dict[str, Any], mounted: dict[str, list[str]],
                      min_bytes: int) -> list[str]:
    """Why device ``name`` is unfit for etcd (empty list: fit)."""
    reasons = []
    if name.startswith(VIRTUAL_PREFIXES):
        kind = re.sub(r"\d+$", "", name).rstrip("-")
        reasons.append(f"not a disk of its own ({kind}); name it in etcd_storage_device to use it anyway")
    if str(info.get("removable", "0")) == "1":
        reasons.append("removable")
    if str(info.get("rotational", "0")) == "1" and not is_nvme_namespace(name):
        reasons.append("rotational (spinning disk, or a virtual disk that reports itself as one)")
    partitions = sorted((info.get("partitions") or {}).keys(), key=_natural_key)
    if partitions:
        reasons.append(f"has partitions ({', '.join(partitions)})")
    holders = info.get("holders") or []
    if holders:
        reasons.append(f"in use by {', '.join(holders)} (LVM, RAID or encryption)")
    where = []
    for dev in ["/dev/" + name] + ["/dev/" + p for p in partitions]:
        where.extend(mounted.get(dev, []))
    if where:
        reasons.append(f"mounted at {', '.join(where)}")
    links = info.get("links") or {}
    uuids = links.get("uuids") or []
    labels = links.get("labels") or []
    if uuids or labels:
        signatures = ", ".join(["UUID " + u for u in uuids] + ["label " + x for x in labels])
        reasons.append(f"carries a filesystem or other signature ({signatures})")
    size = device_bytes(info)
    if size < min_bytes:
        reasons.append(f"smaller than the minimum ({size} < {min_bytes} bytes)")
    return reasons


def judge_devices(devices: dict[str, Any], mounts: Any, min_bytes: int) -> dict[str, Any]:
    """Sort ansible_devices into candidates (best first) and rejections.

    Returns ``{"candidates": ["/dev/nvme0n1", ...], "rejected": {"/dev/sda": [reason, ...]}}``.
    Best first: NVMe namespaces, then other non-rotational disks; each group in
    natural name order.
    """
    mounted = _mounted_devices(mounts)
    fit = []
    rejected = {}
    for name in sorted(devices, key=_natural_key):
        info = devices[name] if isinstance(devices[name], dict) else {}
        reasons = rejection_reasons(name, info, mounted, min_bytes)
        if reasons:
            rejected["/dev/" + name] = reasons
        else:
            fit.append(name)
    fit.sort(key=lambda n: (0 if is_nvme_namespace(n) else 1, _natural_key(n)))
    return {"candidates": ["/dev/" + n for n in fit], "rejected": rejected}
