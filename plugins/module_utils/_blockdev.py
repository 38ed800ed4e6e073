# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which disks may hold etcd's data: the one home of the disk-fitness rules.

No Ansible imports; shared by the etcd_disk_candidates filter (a first sieve
over facts) and the etcd_disk module (the probe of the device itself, and
the rules that refuse to format it).  Facts can never prove a disk empty (a
container sees the host's disks but not the host's mounts; without udev
there are no by-uuid links), so the module probes the chosen device itself
before the role writes anything.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from typing import Any

from ansible_collections.edgeops.gitops.plugins.module_utils._items import Run, read_file

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


# ---------------------------------------------------------------------------
# The device itself: what the kernel and the device say (the etcd_disk module).
#
# Facts cannot prove a disk empty: a privileged container sees the host's
# disks but not the host's mounts, and without udev there are no by-uuid
# links. So the probe asks the kernel and the device:
#   - sysfs: size, partitions, holders (LVM, RAID, dm-crypt);
#   - mountinfo: where it is mounted in this mount namespace, and what is
#     mounted on the mount point;
#   - an O_EXCL open: the kernel refuses it (EBUSY) while anything, in any
#     mount namespace (the host's included), has the device mounted or claimed;
#   - blkid -p and wipefs --no-act: filesystem, RAID, LVM and partition-table
#     signatures read from the device itself.
# Every path is relative to ``root`` so the unit tests run on fake trees.
# ---------------------------------------------------------------------------

def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal."""
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def parse_mountinfo(text: str) -> list[dict[str, Any]]:
    """Entries of /proc/self/mountinfo: majmin, root, mount_point, options, fstype, source."""
    entries = []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        sep = fields.index("-")
        entries.append({
            "majmin": fields[2], "root": _unescape(fields[3]), "mount_point": _unescape(fields[4]),
            "options": fields[5].split(","), "fstype": fields[sep + 1], "source": _unescape(fields[sep + 2]),
        })
    return entries


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()


def sysfs_devices(root: str = "/") -> dict[str, dict[str, Any]]:
    """The host's whole disks from /sys/block, shaped like ``ansible_facts.devices``.

    Carries what :func:`rejection_reasons` reads (removable, rotational,
    sectors, partitions, holders); no by-uuid links, which need udev: the
    probe reads signatures from the device itself.
    """
    base = os.path.join(root, "sys/block")
    devices: dict[str, dict[str, Any]] = {}
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        sysdir = os.path.join(base, name)

        def attr(rel: str, default: str = "0", _d: str = sysdir) -> str:
            try:
                return _read(os.path.join(_d, rel))
            except OSError:
                return default

        partitions: dict[str, dict[str, Any]] = {
            entry: {} for entry in os.listdir(sysdir)
            if os.path.exists(os.path.join(sysdir, entry, "partition"))
        }
        holders_dir = os.path.join(sysdir, "holders")
        devices[name] = {
            "removable": attr("removable"), "rotational": attr("queue/rotational"),
            "sectors": attr("size"), "partitions": partitions,
            "holders": sorted(os.listdir(holders_dir)) if os.path.isdir(holders_dir) else [],
            "links": {},
        }
    return devices


def mounts_from_mountinfo(entries: list[dict[str, Any]]) -> list[dict[str, str]]:
    """``ansible_mounts``-shaped list (device, mount) from mountinfo entries."""
    return [{"device": e["source"], "mount": e["mount_point"]}
            for e in entries if e["source"].startswith("/dev/")]


def new_probe(device: str) -> dict[str, Any]:
    """The probe's result before anything is known."""
    return {"device": device, "exists": False, "is_block": False, "name": "", "size_bytes": 0, "majmin": "",
            "partitions": [], "holders": [], "mounts": [], "in_use": False, "in_use_error": "",
            "blkid": {}, "wipefs": [], "target_mount": None, "errors": []}


def probe_device(device: str, mount_point: str, run: Run, root: str = "/") -> dict[str, Any]:
    """Read-only probe of ``device`` (see the comment above). Writes nothing.

    ``run(argv) -> (rc, stdout, stderr)`` runs blkid and wipefs.
    """
    result = new_probe(device)
    path = os.path.join(root, device.lstrip("/"))
    entries = read_mountinfo(root)
    target = os.path.normpath(mount_point)
    for entry in entries:
        if entry["mount_point"] == target:
            result["target_mount"] = entry  # the last one is the one on top
    result["exists"] = os.path.lexists(path)
    if not result["exists"]:
        return result
    st = device_stat(path)
    if not stat.S_ISBLK(st.st_mode):
        return result
    result["is_block"] = True
    majmin = f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
    result["majmin"] = majmin
    sysdir = os.path.join(root, "sys/dev/block", majmin)
    result["name"] = os.path.basename(os.path.realpath(sysdir))
    result["size_bytes"] = int(_read(os.path.join(sysdir, "size"))) * 512
    partition_majmins: dict[str, str] = {}
    for child in sorted(os.listdir(sysdir), key=_natural_key):
        if os.path.exists(os.path.join(sysdir, child, "partition")):
            result["partitions"].append(child)
            partition_majmins[_read(os.path.join(sysdir, child, "dev"))] = child
    if os.path.isdir(os.path.join(sysdir, "holders")):
        result["holders"] = sorted(os.listdir(os.path.join(sysdir, "holders")))
    for entry in entries:
        if entry["majmin"] == majmin or entry["majmin"] in partition_majmins:
            result["mounts"].append(dict(entry, partition=partition_majmins.get(entry["majmin"])))
    try:
        # blkid exits 2 ("nothing found") also when it cannot open the device:
        # only trust its silence when the device can be read here.
        with open(path, "rb") as handle:
            handle.read(4096)
    except OSError as exc:
        result["errors"].append(f"reading {device} failed: {exc.strerror or exc}")
        return result
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_EXCL))
    except OSError as exc:
        result["in_use"] = exc.errno == errno.EBUSY
        result["in_use_error"] = f"{errno.errorcode.get(exc.errno or 0, str(exc.errno))}: {exc.strerror}"
        if exc.errno != errno.EBUSY:
            result["errors"].append(f"exclusive open of {device} failed: {exc.strerror}")
    rc, out, err = run(["blkid", "-p", "-o", "export", path])
    if rc == 0:
        for line in out.splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                result["blkid"][key] = value
    elif rc != 2:  # 2: nothing found
        result["errors"].append(f"blkid -p failed for {device} (rc {rc}): {err.strip()}")
    rc, out, err = run(["wipefs", "--no-act", "--json", path])
    if rc == 0:
        if out.strip():
            result["wipefs"] = json.loads(out).get("signatures", [])
    else:
        result["errors"].append(f"wipefs --no-act failed for {device} (rc {rc}): {err.strip()}")
    return result


def device_stat(path: str) -> os.stat_result:
    """``os.stat`` of the device node (one place, so fake trees can stand in for /dev)."""
    return os.stat(path)


def read_mountinfo(root: str = "/") -> list[dict[str, Any]]:
    """The entries of ``<root>/proc/self/mountinfo`` (none when it cannot be found)."""
    return parse_mountinfo(read_file(os.path.join(root, "proc/self/mountinfo")) or "")


def judge_probe(probe: dict[str, Any], *, device: str, record: dict[str, Any], record_path: str,
                label: str, fstype: str, mount_point: str, min_size: str, min_bytes: int,
                override: str) -> dict[str, Any]:
    """What the probe means for etcd's disk: is it ours, blank, mounted here; what forbids formatting it.

    ``hard`` reasons can never be overridden (formatting would corrupt something
    live, or the probe could not look); ``soft`` ones hold data that is not live
    but not ours, and only the loud override (the device named in ``override``)
    lets the role destroy it.
    """
    p, d = probe, device
    blkid = p["blkid"]
    mount_point = os.path.normpath(mount_point)
    ours = (blkid.get("TYPE", "") in ("ext4", "xfs") and blkid.get("LABEL", "") == label
            and blkid.get("UUID", "") != "" and blkid.get("UUID", "") == record.get("uuid", "")
            and not p["partitions"])
    blank = p["is_block"] and not p["errors"] and not blkid and not p["wipefs"] and not p["partitions"]
    target = p["target_mount"]
    mounted_here = bool(target is not None and p["majmin"] != "" and target["majmin"] == p["majmin"])
    elsewhere = [m["mount_point"] for m in p["mounts"] if m["mount_point"] != mount_point]
    hard = []
    if not p["exists"]:
        hard.append(d + " does not exist")
    if p["exists"] and not p["is_block"]:
        hard.append(d + " is not a block device")
    hard.extend(p["errors"])
    if p["is_block"] and p["size_bytes"] < min_bytes:
        hard.append(f"{d} is {p['size_bytes']} bytes, smaller than etcd_storage_min_size {min_size}"
                    f" ({min_bytes} bytes)")
    if p["holders"]:
        hard.append("{} is held by {} (LVM, RAID or dm-crypt)".format(d, ", ".join(p["holders"])))
    if elsewhere:
        hard.append("{} is mounted at {}".format(d, ", ".join(elsewhere)))
    if p["in_use"] and not mounted_here:
        hard.append("{} is in use ({} on an exclusive open): mounted in another mount namespace, such as the"
                    " host of this container, or claimed by another program".format(d, p["in_use_error"]))
    if target is not None and not mounted_here:
        hard.append("{} already has {} mounted on it".format(mount_point, target["source"]))
    soft = []
    if p["partitions"]:
        soft.append("{} has partitions ({})".format(d, ", ".join(p["partitions"])))
    if not ours and (blkid or p["wipefs"]):
        kind = blkid.get("TYPE", blkid.get("PTTYPE", "a signature"))
        uuid = blkid.get("UUID", blkid.get("PTUUID", "none"))
        soft.append(f"{d} carries {kind} (label {blkid.get('LABEL', 'none')}, UUID {uuid}) that this role did"
                    f" not create (its own has label {label} and the UUID in {record_path})")
    if ours and blkid.get("TYPE") != fstype:
        soft.append(f"{d} holds the role's own {blkid.get('TYPE')} filesystem but etcd_storage_fstype"
                    f" is {fstype}")
    return {"ours": ours, "blank": blank, "mounted_here": mounted_here, "elsewhere": elsewhere,
            "hard": hard, "soft": soft, "override": override != "" and override == device}


def refusal_message(judgement: dict[str, Any], *, device: str, host: str) -> str:
    """The refusal, or '' when the device may be used."""
    hard, soft = judgement["hard"], judgement["soft"]
    if not hard and (not soft or judgement["override"]):
        return ""
    text = "Refusing to use {} for etcd on {}: {}. ".format(device, host, "; ".join(hard + soft))
    if hard:
        text += "Pick another device (etcd_storage_device); this cannot be overridden. "
    else:
        text += (f"If, and only if, everything on {device} may be destroyed, set"
                 f" etcd_storage_format_destroying_existing_data_on: {device}. ")
    return text + "Nothing was changed."
