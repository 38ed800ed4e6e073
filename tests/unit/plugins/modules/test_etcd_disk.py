"""Tests for the edgeops.gitops.etcd_disk module and the disk rules in module_utils/_blockdev.py.

sysfs, /proc/self/mountinfo and /dev are stood in for by temporary trees; only the
device node's stat (``_blockdev.device_stat``) and blkid/wipefs (the ``run`` callable)
are faked. The real thing is proven by the etcd_storage molecule scenario on loop devices.
"""

from __future__ import annotations

import json
import os
import stat
from types import SimpleNamespace

import pytest
from ansible_collections.edgeops.gitops.plugins.module_utils import _blockdev
from ansible_collections.edgeops.gitops.plugins.modules import etcd_disk

GIB = 1024**3
MOUNTINFO = (
    "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "30 22 259:1 / /var/lib/etcd rw,noatime shared:9 - ext4 /dev/nvme1n1 rw\n"
    "31 22 8:16 / /srv/my\\040data rw,relatime shared:10 - xfs /dev/sdb rw\n"
)
SETTINGS = {
    "device": "/dev/nvme1n1",
    "min_size": "8g",
    "fstype": "ext4",
    "label": "etcd-data",
    "mount_point": "/var/lib/etcd",
    "mount_options": ["noatime"],
    "data_dir": "/var/lib/etcd/data",
    "data_dir_owner": "root",
    "data_dir_group": "root",
    "record_path": "/etc/edgeops/etcd-disk.json",
    "format_destroying_existing_data_on": "",
}


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_disk(root, name, majmin, *, size_bytes, rotational="0", removable="0", partitions=(), holders=()):
    block = root / "sys" / "block" / name
    _write(block / "size", str(size_bytes // 512))
    _write(block / "removable", removable)
    _write(block / "queue" / "rotational", rotational)
    for index, part in enumerate(partitions, start=1):
        _write(block / part / "partition", str(index))
        major, minor = majmin.split(":")
        _write(block / part / "dev", f"{major}:{int(minor) + index}")
    (block / "holders").mkdir(parents=True, exist_ok=True)
    for holder in holders:
        (block / "holders" / holder).mkdir()
    devlink = root / "sys" / "dev" / "block" / majmin
    devlink.parent.mkdir(parents=True, exist_ok=True)
    devlink.symlink_to(block)
    _write(root / "dev" / name, "")


@pytest.fixture
def tree(tmp_path):
    make_disk(tmp_path, "vda", "254:0", size_bytes=40 * GIB, rotational="1", partitions=["vda1"])
    make_disk(tmp_path, "nvme1n1", "259:1", size_bytes=8 * GIB)
    make_disk(tmp_path, "nvme2n1", "259:5", size_bytes=16 * GIB)
    make_disk(tmp_path, "sdb", "8:16", size_bytes=100 * GIB)
    make_disk(tmp_path, "sdc", "8:32", size_bytes=100 * GIB, holders=["dm-0"])
    make_disk(tmp_path, "nvme3n1", "259:9", size_bytes=1 * GIB)
    make_disk(tmp_path, "loop0", "7:0", size_bytes=100 * GIB)
    _write(tmp_path / "proc" / "self" / "mountinfo", MOUNTINFO)
    return tmp_path


@pytest.fixture
def block_nodes(monkeypatch):
    """Make the fake /dev entries block devices with the major:minor of their sysfs entry."""

    def fake_stat(path):
        name = os.path.basename(path)
        majmin = {"vda": (254, 0), "nvme1n1": (259, 1), "nvme2n1": (259, 5), "sdb": (8, 16)}.get(name)
        if majmin is None:
            return os.stat(path)
        return SimpleNamespace(st_mode=stat.S_IFBLK | 0o660, st_rdev=os.makedev(*majmin))

    monkeypatch.setattr(_blockdev, "device_stat", fake_stat)


def fake_run(blkid=None, wipefs=None):
    def run(argv):
        if argv[0] == "blkid":
            if not blkid:
                return 2, "", ""
            return 0, "".join("{}={}\n".format(*kv) for kv in blkid.items()), ""
        return 0, json.dumps({"signatures": wipefs or []}), ""

    return run


# --- sysfs and mountinfo -------------------------------------------------------------------


def test_mountinfo_unescapes_and_keeps_per_mount_options():
    entries = _blockdev.parse_mountinfo(MOUNTINFO)
    assert [e["mount_point"] for e in entries] == ["/", "/var/lib/etcd", "/srv/my data"]
    assert entries[1] == {
        "majmin": "259:1",
        "root": "/",
        "mount_point": "/var/lib/etcd",
        "options": ["rw", "noatime"],
        "fstype": "ext4",
        "source": "/dev/nvme1n1",
    }


def test_sysfs_candidates_share_the_facts_rules(tree):
    mounts = _blockdev.mounts_from_mountinfo(_blockdev.parse_mountinfo(MOUNTINFO))
    judged = _blockdev.judge_devices(_blockdev.sysfs_devices(str(tree)), mounts, 4 * GIB)
    assert judged["candidates"] == ["/dev/nvme2n1"]
    why = {dev: "; ".join(reasons) for dev, reasons in judged["rejected"].items()}
    assert "mounted at /var/lib/etcd" in why["/dev/nvme1n1"]
    assert "mounted at /srv/my data" in why["/dev/sdb"]
    assert "in use by dm-0" in why["/dev/sdc"]
    assert "rotational" in why["/dev/vda"] and "has partitions (vda1)" in why["/dev/vda"]
    assert "smaller than the minimum" in why["/dev/nvme3n1"]
    assert "not a disk of its own (loop)" in why["/dev/loop0"]


def test_pick_prefers_the_recorded_disk_then_the_best_candidate(tree):
    record = {"device": "/dev/nvme1n1", "mount_point": "/var/lib/etcd"}
    auto = dict(SETTINGS, device="")
    assert etcd_disk.pick_device(auto, record, root=str(tree)) == ("/dev/nvme1n1", "")
    assert etcd_disk.pick_device(auto, {}, root=str(tree)) == ("/dev/nvme2n1", "")
    assert etcd_disk.pick_device(dict(SETTINGS, device="/dev/sdb"), record, root=str(tree)) == (
        "/dev/sdb",
        "",
    )


def test_no_fit_disk_names_every_rejection(tree):
    device, error = etcd_disk.pick_device(dict(SETTINGS, device="", min_size="1t"), {}, root=str(tree))
    assert device == ""
    assert "No disk on this host is fit for etcd's data (at least 1t" in error
    assert "/dev/nvme2n1: smaller than the minimum" in error and "/dev/vda: rotational" in error
    assert error.endswith("Nothing was changed.")


# --- the probe ----------------------------------------------------------------------------


def test_probe_reads_size_mounts_and_signatures(tree, block_nodes):
    run = fake_run(blkid={"TYPE": "ext4", "LABEL": "etcd-data", "UUID": "u-1"})
    p = _blockdev.probe_device("/dev/nvme1n1", "/var/lib/etcd/", run, root=str(tree))
    assert (p["exists"], p["is_block"], p["majmin"], p["name"]) == (True, True, "259:1", "nvme1n1")
    assert p["size_bytes"] == 8 * GIB
    assert p["target_mount"]["source"] == "/dev/nvme1n1"
    assert [m["mount_point"] for m in p["mounts"]] == ["/var/lib/etcd"]
    assert p["blkid"] == {"TYPE": "ext4", "LABEL": "etcd-data", "UUID": "u-1"}
    assert p["errors"] == []


def test_probe_finds_partitions_and_their_mounts(tree, block_nodes):
    p = _blockdev.probe_device("/dev/vda", "/var/lib/etcd", fake_run(), root=str(tree))
    assert p["partitions"] == ["vda1"]
    assert [(m["mount_point"], m["partition"]) for m in p["mounts"]] == [("/", "vda1")]


def test_probe_of_a_missing_or_plain_file(tree):
    assert _blockdev.probe_device("/dev/nope", "/x", fake_run(), root=str(tree))["exists"] is False
    plain = _blockdev.probe_device("/dev/nvme1n1", "/x", fake_run(), root=str(tree))
    assert (plain["exists"], plain["is_block"]) == (True, False)


def test_a_failing_blkid_is_an_error_not_silence(tree, block_nodes):
    def run(argv):
        return (4, "", "cannot open") if argv[0] == "blkid" else (0, "", "")

    p = _blockdev.probe_device("/dev/nvme2n1", "/var/lib/etcd", run, root=str(tree))
    assert p["errors"] == ["blkid -p failed for /dev/nvme2n1 (rc 4): cannot open"]


# --- the refusal rules --------------------------------------------------------------------


def judge(probe, **kw):
    args = dict(
        device="/dev/nvme2n1",
        record={},
        record_path="/etc/edgeops/etcd-disk.json",
        label="etcd-data",
        fstype="ext4",
        mount_point="/var/lib/etcd",
        min_size="8g",
        min_bytes=8 * GIB,
        override="",
    )
    args.update(kw)
    return _blockdev.judge_probe(probe, **args)


def blank_probe(**kw):
    p = _blockdev.new_probe("/dev/nvme2n1")
    p.update(exists=True, is_block=True, majmin="259:5", size_bytes=16 * GIB)
    p.update(kw)
    return p


def test_a_blank_disk_is_fit():
    j = judge(blank_probe())
    assert (j["blank"], j["ours"], j["hard"], j["soft"]) == (True, False, [], [])
    assert _blockdev.refusal_message(j, device="/dev/nvme2n1", host="m1") == ""


def test_a_foreign_filesystem_is_refused_unless_named_in_the_override():
    probe = blank_probe(blkid={"TYPE": "ext4", "LABEL": "foreign-data", "UUID": "f-1"})
    j = judge(probe)
    msg = _blockdev.refusal_message(j, device="/dev/nvme2n1", host="m1")
    assert j["hard"] == []
    assert msg.startswith(
        "Refusing to use /dev/nvme2n1 for etcd on m1: /dev/nvme2n1 carries ext4 (label "
        "foreign-data, UUID f-1) that this role did not create (its own has label etcd-data "
        "and the UUID in /etc/edgeops/etcd-disk.json)"
    )
    assert "etcd_storage_format_destroying_existing_data_on: /dev/nvme2n1" in msg
    assert _blockdev.refusal_message(judge(probe, override="/dev/nvme9n1"), device="/dev/nvme2n1", host="m1")
    assert (
        _blockdev.refusal_message(judge(probe, override="/dev/nvme2n1"), device="/dev/nvme2n1", host="m1")
        == ""
    )


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"exists": False, "is_block": False}, "/dev/nvme2n1 does not exist"),
        ({"is_block": False}, "/dev/nvme2n1 is not a block device"),
        (
            {"size_bytes": GIB},
            "/dev/nvme2n1 is 1073741824 bytes, smaller than etcd_storage_min_size 8g (8589934592 bytes)",
        ),
        ({"holders": ["dm-0"]}, "/dev/nvme2n1 is held by dm-0 (LVM, RAID or dm-crypt)"),
        (
            {"mounts": [{"mount_point": "/srv/other", "majmin": "259:5"}]},
            "/dev/nvme2n1 is mounted at /srv/other",
        ),
        ({"in_use": True, "in_use_error": "EBUSY: busy"}, "is in use (EBUSY: busy on an exclusive open)"),
        (
            {"target_mount": {"majmin": "8:16", "source": "/dev/sdb", "options": []}},
            "/var/lib/etcd already has /dev/sdb mounted on it",
        ),
        ({"errors": ["reading /dev/nvme2n1 failed: Permission denied"]}, "reading /dev/nvme2n1 failed"),
    ],
)
def test_live_data_is_never_overridable(change, expected):
    j = judge(blank_probe(**change), override="/dev/nvme2n1")
    msg = _blockdev.refusal_message(j, device="/dev/nvme2n1", host="m1")
    assert expected in msg
    assert "this cannot be overridden" in msg and msg.endswith("Nothing was changed.")


def test_our_own_filesystem_is_recognised_by_label_and_recorded_uuid():
    probe = blank_probe(blkid={"TYPE": "ext4", "LABEL": "etcd-data", "UUID": "u-1"})
    assert judge(probe, record={"uuid": "u-1"})["ours"] is True
    assert judge(probe, record={"uuid": "u-2"})["ours"] is False
    assert judge(probe, record={"uuid": "u-1"}, label="other")["ours"] is False


# --- the plan ----------------------------------------------------------------------------


def converged():
    target = {
        "majmin": "259:5",
        "source": "/dev/nvme2n1",
        "options": ["rw", "noatime"],
        "mount_point": "/var/lib/etcd",
    }
    probe = blank_probe(
        blkid={"TYPE": "ext4", "LABEL": "etcd-data", "UUID": "u-1"},
        target_mount=target,
        mounts=[dict(target)],
    )
    return probe, judge(probe, record={"uuid": "u-1"})


FSTAB = "# comment\nUUID=u-0 / ext4 errors=remount-ro 0 1\nUUID=u-1 /var/lib/etcd ext4 noatime 0 2\n"
DIR_OK = SimpleNamespace(st_mode=stat.S_IFDIR | 0o700, st_uid=0, st_gid=0)


def test_a_converged_disk_has_an_empty_plan():
    probe, j = converged()
    assert etcd_disk.plan_storage(dict(SETTINGS, device="/dev/nvme2n1"), j, probe, FSTAB, DIR_OK) == []


def test_drifted_fstab_live_options_and_mode_are_three_items():
    probe, j = converged()
    probe["target_mount"]["options"] = ["rw", "relatime"]
    fstab = FSTAB.replace("ext4 noatime 0 2", "ext4 defaults 0 2")
    wide = SimpleNamespace(st_mode=stat.S_IFDIR | 0o755, st_uid=0, st_gid=0)
    items = etcd_disk.plan_storage(dict(SETTINGS, device="/dev/nvme2n1"), j, probe, fstab, wide)
    assert items == [
        {
            "key": "fstab",
            "before": "UUID=u-1 /var/lib/etcd ext4 defaults 0 2",
            "after": "UUID=u-1 /var/lib/etcd ext4 noatime 0 2",
            "path": "/etc/fstab",
        },
        {"key": "mount_options", "before": "rw,relatime", "after": "noatime", "path": "/var/lib/etcd"},
        {
            "key": "data_dir",
            "before": "0755 root:root",
            "after": "0700 root:root",
            "path": "/var/lib/etcd/data",
        },
    ]


def test_an_unmounted_disk_of_ours_is_a_mount_not_a_new_filesystem():
    probe, _judgement = converged()
    probe["target_mount"], probe["mounts"] = None, []
    j = judge(probe, record={"uuid": "u-1"})
    items = etcd_disk.plan_storage(dict(SETTINGS, device="/dev/nvme2n1"), j, probe, FSTAB, None)
    assert [i["key"] for i in items] == ["mount"]
    assert items[0]["before"] == "not mounted"


def test_a_blank_disk_plans_everything():
    probe = blank_probe()
    items = etcd_disk.plan_storage(dict(SETTINGS, device="/dev/nvme2n1"), judge(probe), probe, "", None)
    assert [i["key"] for i in items] == ["filesystem", "fstab", "mount", "data_dir"]
    fs = items[0]
    assert (fs["before"], fs["after"]) == ("no filesystem", "ext4 (label etcd-data, new UUID)")


# --- through AnsibleModule: check mode reports the plan, a normal run changes nothing itself ------------


@pytest.mark.parametrize("check_mode, expect_changed", [(True, True), (False, False)])
def test_the_module_reports_the_plan_as_drift_only_in_check_mode(
    monkeypatch, capsys, module_args, check_mode, expect_changed
):
    probe, _judgement = converged()
    probe["target_mount"]["options"] = ["rw", "relatime"]
    monkeypatch.setattr(etcd_disk, "read_record", lambda path: {"uuid": "u-1"})
    monkeypatch.setattr(etcd_disk, "pick_device", lambda params, record: ("/dev/nvme2n1", ""))
    monkeypatch.setattr(_blockdev, "probe_device", lambda device, mount_point, run: probe)
    monkeypatch.setattr(etcd_disk, "read_fstab", lambda: FSTAB)
    monkeypatch.setattr(etcd_disk, "stat_or_none", lambda path: DIR_OK)
    args = dict(SETTINGS, device="", _ansible_check_mode=check_mode, _ansible_diff=True)
    module_args(args)
    with pytest.raises(SystemExit):
        etcd_disk.main()
    out = json.loads(capsys.readouterr().out)
    assert out["plan"] == ["mount_options"]
    assert out["changed"] is expect_changed
    assert out["diff"]["before"] == "mount_options: rw,relatime\n"


def test_the_module_refuses_with_the_rule_and_changes_nothing(monkeypatch, capsys, module_args):
    probe = blank_probe(blkid={"TYPE": "xfs", "LABEL": "db", "UUID": "x-1"})
    monkeypatch.setattr(etcd_disk, "read_record", lambda path: {})
    monkeypatch.setattr(etcd_disk, "pick_device", lambda params, record: ("/dev/nvme2n1", ""))
    monkeypatch.setattr(_blockdev, "probe_device", lambda device, mount_point, run: probe)
    module_args(dict(SETTINGS, device="/dev/nvme2n1"))
    with pytest.raises(SystemExit):
        etcd_disk.main()
    out = json.loads(capsys.readouterr().out)
    assert out["failed"] is True and out["plan"] == []
    assert "carries xfs (label db, UUID x-1) that this role did not create" in out["msg"]
