#!/usr/bin/python
# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module edgeops.gitops.etcd_disk."""

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_disk
short_description: Probe etcd's disk, refuse what is not ours to format, and plan its filesystem and mount
version_added: 0.2.0
author:
  - edgeops contributors (@edgeops)
description:
  - The whole state of etcd's dedicated disk in one read-only call, the way the C(etcd_storage) role needs it.
  - Picks the device (O(device), or the role's record of the disk it formatted, or the best whole,
    unpartitioned, unused, solid-state disk from C(/sys/block) at least O(min_size) large).
  - Probes the device itself, because facts cannot prove a disk empty (a container sees the host's disks
    but not the host's mounts, and without udev there are no by-uuid links) - sysfs (size, partitions,
    holders), C(/proc/self/mountinfo), an exclusive open (refused while anything, in any mount namespace,
    has the device mounted or claimed), C(blkid -p) and C(wipefs --no-act).
  - Fails, changing nothing, when the device must not be formatted - it does not exist, is not a block
    device, is too small, is held by LVM, RAID or dm-crypt, is mounted elsewhere or in use, or another
    filesystem is mounted on O(mount_point) (never overridable); it has partitions or carries a signature
    this role did not create (overridable only by naming the device in O(format_destroying_existing_data_on));
    or O(mount_point) is not mounted and holds files the mount would hide.
  - Returns the plan - what differs from the desired state (filesystem, C(/etc/fstab) entry, mount, live
    mount options, data directory) - as RV(changes), the drift report's items. It never changes anything
    itself; the role applies the plan with its own tasks, only when the plan is not empty.
  - In check mode it reports the plan as a change (with a diff), so a drift check of the concern is
    this one call.
extends_documentation_fragment:
  - edgeops.gitops.attributes.PLAN_MODULE
  - edgeops.gitops.attributes.SETTINGS_CHECK
options:
  device:
    description: The block device to use; empty to pick one (see the description).
    type: str
    default: ""
  min_size:
    description: The smallest device accepted, in bytes or with a binary suffix (V(20g), V(512m)).
    type: str
    default: 20g
  fstype:
    description: The filesystem to create.
    type: str
    choices: [ext4, xfs]
    default: ext4
  label:
    description: The filesystem label; part of how the role recognises its own filesystem.
    type: str
    required: true
  mount_point:
    description: Where the filesystem is mounted.
    type: path
    required: true
  mount_options:
    description: Mount options the fstab entry and the live mount must carry.
    type: list
    elements: str
    default: [noatime]
  data_dir:
    description: The data directory below O(mount_point) (mode 0700).
    type: path
    required: true
  data_dir_owner:
    description: Owner of O(data_dir).
    type: str
    default: root
  data_dir_group:
    description: Group of O(data_dir).
    type: str
    default: root
  record_path:
    description: The role's record of the filesystem it created (device, UUID, accepted figures), JSON.
    type: path
    default: /etc/edgeops/etcd-disk.json
  format_destroying_existing_data_on:
    description:
      - The device whose partitions or foreign signatures may be destroyed. Only a device named here
        exactly is ever formatted over existing data; live data (mounted, held, in use) is never overridable.
    type: str
    default: ""
notes:
  - Runs C(blkid) and C(wipefs) from util-linux on the target.
seealso:
  - module: edgeops.gitops.fsync_latency
"""

EXAMPLES = r"""
- name: Etcd's disk - probe, refuse, plan (the drift check of the concern)
  edgeops.gitops.etcd_disk:
    device: /dev/nvme1n1
    min_size: 20g
    label: etcd-data
    mount_point: /var/lib/etcd
    data_dir: /var/lib/etcd/data
  register: etcd_disk

- name: Apply the plan only when there is one
  ansible.builtin.include_tasks: configure.yml
  when: etcd_disk.plan | length > 0
"""

RETURN = r"""
device:
  description: The device judged (chosen or given).
  returned: always
  type: str
  sample: /dev/nvme1n1
uuid:
  description: The UUID of the role's own filesystem on the device; empty when there is none yet.
  returned: always
  type: str
ours:
  description: The device carries the filesystem this role created (label and the UUID in the record).
  returned: always
  type: bool
blank:
  description: The device carries no signature and no partitions.
  returned: always
  type: bool
override:
  description: The device is named in O(format_destroying_existing_data_on).
  returned: always
  type: bool
mounted_here:
  description: The device is what is mounted on O(mount_point).
  returned: always
  type: bool
live_options:
  description: The live mount's options when the device is mounted on O(mount_point).
  returned: always
  type: list
  elements: str
record:
  description: The role's record as read (empty when there is none).
  returned: always
  type: dict
plan:
  description: The parts that differ - C(filesystem), C(fstab), C(mount), C(mount_options), C(data_dir).
  returned: always
  type: list
  elements: str
changes:
  description: What differs from the desired state, one item per part (the drift report's items).
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description: The part.
      type: str
    before:
      description: What is there.
      type: str
    after:
      description: What the role puts there.
      type: str
    path:
      description: The file or device it is about.
      type: str
probe:
  description: What the probe found on the device (sysfs, mounts, exclusive open, blkid, wipefs).
  returned: always
  type: dict
"""

import grp
import json
import os
import pwd
from typing import Any, Callable

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.edgeops.gitops.plugins.module_utils import _blockdev
from ansible_collections.edgeops.gitops.plugins.module_utils._items import Item, plan_result, read_file
from ansible_collections.edgeops.gitops.plugins.module_utils._role_settings import (
    SETTINGS_CHECK_OPTION,
    refuse_wrong_settings,
)
from ansible_collections.edgeops.gitops.plugins.module_utils._size import SizeError, parse_size

ROOT = "/"


def read_record(path: str) -> dict[str, Any]:
    """The record as a dict ({} when missing); an unreadable record is an error."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"the record {path} cannot be read ({exc}); move it away only if it is not from this role"
        ) from exc
    return data if isinstance(data, dict) else {}


def pick_device(params: dict[str, Any], record: dict[str, Any], root: str = ROOT) -> tuple[str, str]:
    """(device, error message) - the given device, the recorded one, or the best candidate."""
    if params["device"]:
        return str(params["device"]), ""
    if record.get("device") and record.get("mount_point") == os.path.normpath(params["mount_point"]):
        return str(record["device"]), ""
    mountinfo = _blockdev.read_mountinfo(root)
    judged = _blockdev.judge_devices(
        _blockdev.sysfs_devices(root),
        _blockdev.mounts_from_mountinfo(mountinfo),
        parse_size(params["min_size"], "min_size", positive=True),
    )
    if judged["candidates"]:
        return str(judged["candidates"][0]), ""
    rejected = "; ".join(f"{dev}: {', '.join(why)}" for dev, why in judged["rejected"].items())
    return "", (
        f"No disk on this host is fit for etcd's data (at least {params['min_size']}, solid-state, whole,"
        f" unpartitioned, unused, without a filesystem). Rejected: {rejected or 'no disks'}. Attach a"
        " dedicated disk or name one in etcd_storage_device. Nothing was changed."
    )


def fstab_entry(text: str, mount_point: str) -> list[str] | None:
    """The last active /etc/fstab entry for ``mount_point`` as its six fields, or None."""
    found: list[str] | None = None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and not fields[0].startswith("#") and os.path.normpath(fields[1]) == mount_point:
            found = ([*fields, "defaults", "0", "0"])[:6] if len(fields) < 6 else fields[:6]
    return found


def plan_storage(params: dict[str, Any], judgement: dict[str, Any], probe: dict[str, Any], fstab_text: str,
                 data_dir_stat: Any) -> list[Item]:
    """The items that differ from the desired state (see RETURN ``changes``)."""
    mount_point = os.path.normpath(params["mount_point"])
    fstype, label = params["fstype"], params["label"]
    blkid = probe["blkid"]
    uuid = blkid.get("UUID", "") if judgement["ours"] else ""
    items: list[Item] = []
    if not judgement["ours"] or blkid.get("TYPE") != fstype:
        found = (
            "{} (label {}, UUID {})".format(
                blkid["TYPE"], blkid.get("LABEL", "none"), blkid.get("UUID", "none")
            )
            if blkid.get("TYPE")
            else "no filesystem"
        )
        items.append(
            {
                "key": "filesystem",
                "before": found,
                "after": f"{fstype} (label {label}, new UUID)",
                "path": params["device"],
            }
        )
    options = ",".join(params["mount_options"])
    want = ["UUID=" + (uuid or "<new>"), mount_point, fstype, options, "0", "2" if fstype == "ext4" else "0"]
    have = fstab_entry(fstab_text, mount_point)
    if have != want:
        items.append(
            {
                "key": "fstab",
                "before": " ".join(have) if have else "absent",
                "after": " ".join(want),
                "path": "/etc/fstab",
            }
        )
    target = probe["target_mount"]
    if not judgement["mounted_here"]:
        items.append(
            {
                "key": "mount",
                "before": target["source"] if target else "not mounted",
                "after": params["device"],
                "path": mount_point,
            }
        )
    elif set(params["mount_options"]) - set(target["options"]):
        items.append(
            {
                "key": "mount_options",
                "before": ",".join(target["options"]),
                "after": options,
                "path": mount_point,
            }
        )
    want_dir = "0700 {}:{}".format(params["data_dir_owner"], params["data_dir_group"])
    if not judgement["ours"]:  # a new filesystem: the directory comes after the mount
        items.append(
            {
                "key": "data_dir",
                "before": "absent",
                "after": want_dir,
                "path": os.path.normpath(params["data_dir"]),
            }
        )
    elif judgement["mounted_here"]:  # our filesystem, mounted (unmounted, its directory cannot be seen)
        if data_dir_stat is None:
            have_dir = "absent"
        else:
            owner = _name(pwd.getpwuid, data_dir_stat.st_uid)
            group = _name(grp.getgrgid, data_dir_stat.st_gid)
            have_dir = f"{data_dir_stat.st_mode & 0o7777:04o} {owner}:{group}"
        if have_dir != want_dir:
            items.append(
                {
                    "key": "data_dir",
                    "before": have_dir,
                    "after": want_dir,
                    "path": os.path.normpath(params["data_dir"]),
                }
            )
    return items


def _name(lookup: Callable[[int], Any], ident: int) -> str:
    try:
        return str(lookup(ident)[0])
    except KeyError:
        return str(ident)


def read_fstab(path: str = "/etc/fstab") -> str:
    """The text of /etc/fstab ('' when there is none)."""
    return read_file(path) or ""


def stat_or_none(path: str) -> os.stat_result | None:
    """``os.stat`` of ``path``, or None when it does not exist."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def hidden_files(mount_point: str, limit: int = 10) -> list[str]:
    """Up to ``limit`` paths under an unmounted ``mount_point`` that the mount would hide."""
    try:
        names = sorted(os.listdir(mount_point))
    except FileNotFoundError:
        return []
    return [os.path.join(mount_point, n) for n in names[:limit]]


def run_module(module: AnsibleModule) -> None:
    params = module.params
    host = os.uname()[1]
    try:
        min_bytes = parse_size(params["min_size"], "min_size", positive=True)
        record = read_record(params["record_path"])
    except (SizeError, ValueError) as exc:
        module.fail_json(msg=f"etcd_disk: {exc}. Nothing was changed.")
    device, error = pick_device(params, record)
    if error:
        module.fail_json(msg=error, device="", plan=[], changes=[])
    params = dict(params, device=device)

    def run(argv: list[str]) -> tuple[int, str, str]:
        rc, out, err = module.run_command(argv, environ_update={"LANG": "C", "LC_ALL": "C"})
        return int(rc), str(out), str(err)

    probe = _blockdev.probe_device(device, params["mount_point"], run)
    judgement = _blockdev.judge_probe(
        probe,
        device=device,
        record=record,
        record_path=params["record_path"],
        label=params["label"],
        fstype=params["fstype"],
        mount_point=params["mount_point"],
        min_size=params["min_size"],
        min_bytes=min_bytes,
        override=params["format_destroying_existing_data_on"],
    )
    result = {
        "device": device,
        "probe": probe,
        "record": record,
        "ours": judgement["ours"],
        "blank": judgement["blank"],
        "override": judgement["override"],
        "mounted_here": judgement["mounted_here"],
        "live_options": probe["target_mount"]["options"] if judgement["mounted_here"] else [],
        "uuid": probe["blkid"].get("UUID", "") if judgement["ours"] else "",
    }
    refusal = _blockdev.refusal_message(judgement, device=device, host=host)
    if refusal:
        module.fail_json(msg=refusal, plan=[], changes=[], **result)
    mount_point = os.path.normpath(params["mount_point"])
    if not judgement["mounted_here"]:
        hidden = hidden_files(mount_point)
        if hidden:
            module.fail_json(
                msg=f"{mount_point} is not mounted and already holds files on the filesystem below it"
                f" ({', '.join(hidden)}): mounting {device} there would hide them. Move them away (an"
                " existing etcd's data belongs on the new disk, copied while etcd is stopped) and run again."
                " Nothing was changed.",
                plan=[],
                changes=[],
                **result,
            )
    changes = plan_storage(params, judgement, probe, read_fstab(), stat_or_none(params["data_dir"]))
    result.update(plan_result(changes, module.check_mode, module._diff, f"{device} (etcd's disk)"))
    module.exit_json(**result)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "device": {"type": "str", "default": ""},
            "min_size": {"type": "str", "default": "20g"},
            "fstype": {"type": "str", "default": "ext4", "choices": ["ext4", "xfs"]},
            "label": {"type": "str", "required": True},
            "mount_point": {"type": "path", "required": True},
            "mount_options": {"type": "list", "elements": "str", "default": ["noatime"]},
            "data_dir": {"type": "path", "required": True},
            "data_dir_owner": {"type": "str", "default": "root"},
            "data_dir_group": {"type": "str", "default": "root"},
            "record_path": {"type": "path", "default": "/etc/edgeops/etcd-disk.json"},
            "format_destroying_existing_data_on": {"type": "str", "default": ""},
            "settings_check": SETTINGS_CHECK_OPTION,
        },
        supports_check_mode=True,
    )
    refuse_wrong_settings(module)
    run_module(module)


if __name__ == "__main__":
    main()
