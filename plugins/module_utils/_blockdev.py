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

#: Kernel name prefixes of devices that are not disks of their own.
VIRTUAL_PREFIXES = ("loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd", "drbd", "rbd", "mmcblk0boot")
_NVME_NAMESPACE = re.compile(r"^nvme\d+n\d+$")


def is_nvme_namespace(name: str) -> bool:
    """True for NVMe namespaces (nvme0n1), not controllers or partitions."""
    return bool(_NVME_NAMESPACE.match(name))


def device_bytes(info: dict) -> int:
    """Size in bytes of an ansible_devices entry (``sectors`` are 512-byte units)."""
    try:
        return int(info.get("sectors") or 0) * 512
    except (TypeError, ValueError):
        return 0


def _mounted_devices(mounts) -> dict:
    """{device path: [mount points]} from ansible_mounts."""
    found: dict = {}
    for mount in mounts or []:
        if isinstance(mount, dict) and mount.get("device"):
            found.setdefault(mount["device"], []).append(mount.get("mount", "?"))
    return found


def _natural_key(name: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def rejection_reasons(name: str, info: dict, mounted: dict, min_bytes: int) -> list:
    """Why device ``name`` is unfit for etcd (empty list: fit)."""
    reasons = []
    if name.startswith(VIRTUAL_PREFIXES):
        reasons.append("not a disk of its own (%s); name it in etcd_storage_device to use it anyway"
                       % re.sub(r"\d+$", "", name).rstrip("-"))
    if str(info.get("removable", "0")) == "1":
        reasons.append("removable")
    if str(info.get("rotational", "0")) == "1" and not is_nvme_namespace(name):
        reasons.append("rotational (spinning disk, or a virtual disk that reports itself as one)")
    partitions = sorted((info.get("partitions") or {}).keys(), key=_natural_key)
    if partitions:
        reasons.append("has partitions (%s)" % ", ".join(partitions))
    holders = info.get("holders") or []
    if holders:
        reasons.append("in use by %s (LVM, RAID or encryption)" % ", ".join(holders))
    where = []
    for dev in ["/dev/" + name] + ["/dev/" + p for p in partitions]:
        where.extend(mounted.get(dev, []))
    if where:
        reasons.append("mounted at %s" % ", ".join(where))
    links = info.get("links") or {}
    uuids = links.get("uuids") or []
    labels = links.get("labels") or []
    if uuids or labels:
        reasons.append("carries a filesystem or other signature (%s)"
                       % ", ".join(["UUID " + u for u in uuids] + ["label " + x for x in labels]))
    size = device_bytes(info)
    if size < min_bytes:
        reasons.append("smaller than the minimum (%d < %d bytes)" % (size, min_bytes))
    return reasons


def judge_devices(devices: dict, mounts, min_bytes: int) -> dict:
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
