"""Tests for the edgeops.gitops.etcd_disk_candidates filter."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.edgeops.gitops.plugins.filter.etcd_disk_candidates import etcd_disk_candidates

FIXTURE = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "etcd_disk_candidates.yml").read_text()
)


def test_candidates_best_first():
    found = etcd_disk_candidates(FIXTURE["devices"], FIXTURE["mounts"], FIXTURE["min_size"])
    assert found == FIXTURE["candidates"]


def test_every_other_device_is_rejected_with_its_reasons():
    judged = etcd_disk_candidates(FIXTURE["devices"], FIXTURE["mounts"], FIXTURE["min_size"], details=True)
    assert judged["candidates"] == FIXTURE["candidates"]
    assert set(judged["rejected"]) == set(FIXTURE["rejected"])
    for device, fragments in FIXTURE["rejected"].items():
        text = "; ".join(judged["rejected"][device])
        for fragment in fragments:
            assert fragment in text, (device, fragment, text)


@pytest.mark.parametrize(
    ("min_size", "expected"),
    [
        (1, ["/dev/nvme0n1", "/dev/nvme1n1", "/dev/nvme2n1", "/dev/vdb"]),
        ("4g", ["/dev/nvme0n1", "/dev/nvme1n1", "/dev/nvme2n1", "/dev/vdb"]),
        ("4GiB", ["/dev/nvme0n1", "/dev/nvme1n1", "/dev/nvme2n1", "/dev/vdb"]),
        (4 * 1024**3 + 1, ["/dev/nvme0n1", "/dev/nvme2n1", "/dev/vdb"]),
        ("50g", ["/dev/nvme0n1"]),
        ("1024g", []),
        ("64t", []),
    ],
)
def test_min_size(min_size, expected):
    assert etcd_disk_candidates(FIXTURE["devices"], FIXTURE["mounts"], min_size) == expected


def test_no_mounts_given_only_facts_of_devices():
    # without ansible_mounts, the partitioned disk is still refused; the whole-disk fs by its label
    found = etcd_disk_candidates(FIXTURE["devices"], min_size="8g", details=True)
    assert "/dev/nvme3n1" in found["rejected"]
    assert "/dev/nvme4n1" in found["rejected"]


def test_nvme_partition_is_not_a_namespace():
    disk = FIXTURE["devices"]["nvme0n1"]
    devices = {"nvme0n1p1": dict(disk), "nvme0n1": dict(disk)}
    assert etcd_disk_candidates(devices, [], 1) == ["/dev/nvme0n1", "/dev/nvme0n1p1"]


def test_container_view_of_the_host_disk():
    # what a lab container sees: the host's root disk, its mounts invisible, no udev links
    vda = {"holders": [], "links": {"ids": [], "labels": [], "masters": [], "uuids": []},
           "partitions": {}, "removable": "0", "rotational": "1", "sectors": 536870912}
    judged = etcd_disk_candidates({"vda": vda}, [], "8g", details=True)
    assert judged["candidates"] == []
    assert judged["rejected"]["/dev/vda"] == [
        "rotational (spinning disk, or a virtual disk that reports itself as one)"
    ]


@pytest.mark.parametrize(
    ("devices", "mounts", "min_size", "message"),
    [
        ("sda", [], "1g", "expected the ansible_devices fact (a dict), got str"),
        ([], [], "1g", "got list"),
        ({}, {"device": "/dev/sda"}, "1g", "mounts must be the ansible_mounts fact (a list), got dict"),
        ({}, [], "eight gigs", "min_size 'eight gigs' (str) is not a size"),
        ({}, [], -5, "min_size -5 (int) is not a size"),
        ({}, [], 0, "must be greater than 0"),
        ({}, [], True, "(bool)"),
    ],
)
def test_errors_are_clear(devices, mounts, min_size, message):
    with pytest.raises(AnsibleFilterError, match=r"edgeops\.gitops\.etcd_disk_candidates") as err:
        etcd_disk_candidates(devices, mounts, min_size)
    assert message in str(err.value)
