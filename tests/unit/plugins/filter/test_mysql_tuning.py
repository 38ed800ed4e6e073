"""Tests for the edgeops.gitops.mysql_tuning filter (table-driven)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.edgeops.gitops.plugins.filter.mysql_tuning import mysql_tuning
from ansible_collections.edgeops.gitops.plugins.module_utils._mysql_tuning import (
    normalise_value,
    parse_version,
    runtime_differences,
)

# (memory_mb, vcpus, disk, flavour, version, expected subset, absent keys)
CASES = [
    # the reference host of the runbook, both flavours
    (16384, 4, "nvme", "mariadb", "10.11",
     {"innodb_buffer_pool_size": "12G", "innodb_log_file_size": "1G",
      "innodb_flush_method": "O_DIRECT", "innodb_io_capacity": 2000,
      "innodb_io_capacity_max": 4000, "innodb_flush_neighbors": 0},
     ["innodb_buffer_pool_instances", "innodb_redo_log_capacity"]),
    (16384, 4, "nvme", "mysql", "8.0.29",
     {"innodb_buffer_pool_size": "12G", "innodb_log_file_size": "1G",
      "innodb_flush_method": "O_DIRECT", "innodb_io_capacity": 2000,
      "innodb_buffer_pool_instances": 4},
     ["innodb_redo_log_capacity"]),
    # MySQL 8.0.30 switches to innodb_redo_log_capacity, sized as innodb_dedicated_server does
    (16384, 8, "ssd", "mysql", "8.0.30",
     {"innodb_buffer_pool_size": "12G", "innodb_redo_log_capacity": "9G",
      "innodb_buffer_pool_instances": 8},
     ["innodb_log_file_size"]),
    (16384, 2, "nvme", "mysql", "8.4.3",
     {"innodb_redo_log_capacity": "1G", "innodb_flush_method": "O_DIRECT"},
     ["innodb_log_file_size"]),
    # MariaDB 11.x: innodb_flush_method deprecated -> innodb_data_file_buffering
    (16384, 2, "nvme", "mariadb", "11.8.3-MariaDB-1 from Debian",
     {"innodb_buffer_pool_size": "12G", "innodb_log_file_size": "1G",
      "innodb_data_file_buffering": "OFF"},
     ["innodb_flush_method", "innodb_buffer_pool_instances"]),
    (16384, 2, "hdd", "mariadb", "11.4",
     {"innodb_data_file_buffering": "ON", "innodb_io_capacity": 200,
      "innodb_io_capacity_max": 400, "innodb_flush_neighbors": 1}, []),
    # MariaDB < 10.5 still has buffer pool instances
    (8192, 4, "hdd", "mariadb", "10.4.32",
     {"innodb_buffer_pool_size": "6G", "innodb_buffer_pool_instances": 4,
      "innodb_flush_method": "fsync", "innodb_io_capacity": 200}, []),
    # RAM bands: < 1 GiB, 1-4 GiB (50 %), > 4 GiB (75 %)
    (512, 1, "ssd", "mysql", "8.0.29",
     {"innodb_buffer_pool_size": "128M", "innodb_log_file_size": "128M"}, ["max_connections"]),
    (1024, 1, "ssd", "mysql", "8.0.29",
     {"innodb_buffer_pool_size": "512M", "innodb_log_file_size": "512M"}, ["max_connections"]),
    (2048, 2, "ssd", "mariadb", "10.11", {"innodb_buffer_pool_size": "1G"}, []),
    (4096, 2, "ssd", "mariadb", "10.11", {"innodb_buffer_pool_size": "2G"}, []),
    (6144, 2, "ssd", "mariadb", "10.11",
     {"innodb_buffer_pool_size": "4608M", "innodb_log_file_size": "512M"}, []),
    # rounding down to chunk x instances: 2900 MB * 50% = 1450 MiB -> 1408M (11 x 128M)
    (2900, 1, "ssd", "mariadb", "10.11", {"innodb_buffer_pool_size": "1408M"}, []),
    # MySQL: 2900 MB, 2 instances -> unit 256M -> 1280M
    (2900, 2, "ssd", "mysql", "8.0.29",
     {"innodb_buffer_pool_size": "1280M", "innodb_buffer_pool_instances": 2}, []),
    (262144, 16, "nvme", "mysql", "8.0.29",
     {"innodb_buffer_pool_size": "192G", "innodb_log_file_size": "2G",
      "innodb_buffer_pool_instances": 8}, []),
    # a small MariaDB host keeps its 151 connections: the unused MyISAM key cache and then the
    # buffer pool shrink instead (MariaDB KB, Optimizing key_buffer_size,
    # https://mariadb.com/kb/en/optimizing-key_buffer_size/: "If you don't make use of MyISAM tables
    # at all, you can set this to a very low value")
    (1024, 1, "ssd", "mariadb", "10.11",
     {"innodb_buffer_pool_size": "256M", "innodb_log_file_size": "512M", "key_buffer_size": "8M"},
     ["max_connections"]),
]


@pytest.mark.parametrize(("memory", "vcpus", "disk", "flavour", "version", "expected", "absent"),
                         CASES)
def test_settings(memory, vcpus, disk, flavour, version, expected, absent):
    got = mysql_tuning(memory, vcpus=vcpus, disk_class=disk, flavour=flavour, version=version)
    for key, value in expected.items():
        assert got[key] == value, (key, got)
    for key in absent:
        assert key not in got, (key, got)


# Issue 16 item 3. MySQL 8.0.30+: MySQL 8.0 manual, "Enabling Automatic InnoDB Configuration for a
# Dedicated MySQL Server", https://dev.mysql.com/doc/refman/8.0/en/innodb-dedicated-server.html
# (redo log capacity table, buffer pool configured explicitly). MySQL 8.4: (vCPUs / 2) GB, at most
# 16 GB, https://dev.mysql.com/doc/refman/8.4/en/innodb-dedicated-server.html.
@pytest.mark.parametrize(
    ("memory", "vcpus", "version", "expected"),
    [
        (512, 4, "8.0.35", "100M"),
        (1024, 4, "8.0.35", "100M"),
        (2048, 4, "8.0.35", "512M"),
        (4096, 4, "8.0.35", "1G"),
        (8192, 4, "8.0.35", "3G"),
        (16384, 4, "8.0.35", "9G"),
        (65536, 4, "8.0.35", "36G"),
        (262144, 4, "8.0.35", "128G"),
        (16384, 1, "8.4.3", "512M"),
        (16384, 2, "8.4.3", "1G"),
        (16384, 8, "8.4.3", "4G"),
        (1024, 8, "8.4.0", "4G"),
        (16384, 32, "8.4.3", "16G"),
        (16384, 64, "9.1.0", "16G"),
    ],
)
def test_redo_log_capacity_follows_the_manual(memory, vcpus, version, expected):
    got = mysql_tuning(memory, vcpus=vcpus, disk_class="nvme", flavour="mysql", version=version)
    assert got["innodb_redo_log_capacity"] == expected
    assert "innodb_log_file_size" not in got


# Issue 16 item 4. MySQL 8.4 manual, "Configuring InnoDB I/O Capacity",
# https://dev.mysql.com/doc/refman/8.4/en/innodb-configuring-io-capacity.html: "The default value is
# 10000". MySQL < 8.4 and MariaDB keep the runbook's 2000 on solid-state disks, 200 on HDD.
@pytest.mark.parametrize(
    ("flavour", "version", "disk", "io_capacity", "expected"),
    [
        ("mysql", "8.4.3", "nvme", None, (10000, 20000)),
        ("mysql", "8.4.3", "ssd", None, (10000, 20000)),
        ("mysql", "8.4.3", "hdd", None, (200, 400)),
        ("mysql", "8.0.35", "nvme", None, (2000, 4000)),
        ("mariadb", "11.8", "nvme", None, (2000, 4000)),
        ("mysql", "8.4.3", "nvme", 3000, (3000, 6000)),
        ("mariadb", "10.11", "nvme", "40000", (40000, 80000)),
        ("mysql", "8.4.3", "nvme", 0, (10000, 20000)),
    ],
)
def test_io_capacity_per_version_and_disk(flavour, version, disk, io_capacity, expected):
    got = mysql_tuning(16384, vcpus=4, disk_class=disk, flavour=flavour, version=version,
                       io_capacity=io_capacity)
    assert (got["innodb_io_capacity"], got["innodb_io_capacity_max"]) == expected


# Issue 16 item 5: the guard never leaves an application 14 connections.
def test_small_host_keeps_the_default_connections_or_fails_clearly():
    got = mysql_tuning(1024, disk_class="ssd", flavour="mariadb", version="10.11")
    assert "max_connections" not in got  # the server default, 151
    with pytest.raises(AnsibleFilterError) as err:
        mysql_tuning(512, disk_class="ssd", flavour="mariadb", version="10.11")
    assert "host too small for the requested settings" in str(err.value)
    assert "buffer pool at 128M" in str(err.value)
    assert "at most 55 connections fit" in str(err.value)
    got = mysql_tuning(512, disk_class="ssd", flavour="mariadb", version="10.11",
                       overrides={"max_connections": 50})
    assert (got["max_connections"], got["innodb_buffer_pool_size"], got["key_buffer_size"]) == (
        50, "128M", "8M")


def test_buffer_pool_never_shrinks_below_its_floor():
    with pytest.raises(AnsibleFilterError, match="buffer pool at 128M"):
        mysql_tuning(1024, flavour="mariadb", overrides={"max_connections": 400})


# Issue 16 item 6: the plan's nominal size rules; a 16 GB VM reports about 15,990 MB.
@pytest.mark.parametrize(
    ("memory", "basis", "expected"),
    [
        (15990, "nominal", "12G"),
        (16384, "nominal", "12G"),
        (15990, "measured", "11904M"),
        (13500, "nominal", "10112M"),  # 5.8% short of 14 GiB: not a 14 GB plan, taken as measured
    ],
)
def test_nominal_memory_rules(memory, basis, expected):
    got = mysql_tuning(memory, vcpus=4, disk_class="nvme", flavour="mariadb", version="10.11",
                       memory_basis=basis)
    assert got["innodb_buffer_pool_size"] == expected


def test_overrides_win_and_are_normalised():
    got = mysql_tuning(16384, disk_class="nvme", overrides={"innodb-io-capacity": 5000,
                                                            "max_connections": 300})
    assert got["innodb_io_capacity"] == 5000
    assert got["max_connections"] == 300
    assert got["innodb_buffer_pool_size"] == "12G"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((16384,), {"overrides": {"max_connections": 5000, "sort_buffer_size": "8M"}},
         "overrides responsible: max_connections=5000, sort_buffer_size='8M'"),
        ((16384,), {"overrides": {"innodb_buffer_pool_size": "16G"}},
         "overrides responsible: innodb_buffer_pool_size='16G'"),
        ((16384,), {"flavour": "postgres"}, "flavour 'postgres' (str) is unknown"),
        ((16384,), {"version": "latest"}, "version 'latest' (str) does not parse"),
        ((16384,), {"version": 10}, "version 10 (int) does not parse"),
        ((16384,), {"disk_class": "floppy"}, "disk_class 'floppy' (str) is unknown"),
        (("lots",), {}, "memory_mb 'lots' (str) must be a positive integer"),
        ((0,), {}, "memory_mb 0 (int) must be a positive integer"),
        ((16384,), {"vcpus": 0}, "vcpus 0 (int) must be a positive integer"),
        ((16384,), {"overrides": ["x"]}, "overrides ['x'] (list) must be a dict"),
        ((16384,), {"overrides": {"sort_buffer_size": "lots"}}, "sort_buffer_size: size 'lots'"),
        ((16384,), {"version": 10.1}, "version 10.1 (float) is a number"),
        ((16384,), {"version": 8.0}, "quote it"),
        ((16384,), {"io_capacity": 50}, "io_capacity 50 (int) must be an integer of at least 100"),
        ((16384,), {"io_capacity": "fast"}, "io_capacity 'fast' (str) must be an integer"),
        ((16384,), {"memory_basis": "rounded"}, "memory_basis 'rounded' (str) is unknown"),
    ],
)
def test_errors_are_clear(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=r"edgeops\.gitops\.mysql_tuning") as err:
        mysql_tuning(*args, **kwargs)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10.11", (10, 11, 0)), ("10.11.6-MariaDB-0+deb12u1", (10, 11, 6)),
     ("8.0.29", (8, 0, 29)), ("11.8.3-MariaDB-1 from Debian", (11, 8, 3)), ([8, 0], (8, 0, 0)),
     # dpkg versions carry an epoch: Debian Policy 5.6.12 "Version" (as apt shows bookworm's MariaDB)
     ("1:10.11.6-0+deb12u1", (10, 11, 6)), ("1:11.8.3-1", (11, 8, 3))],
)
def test_parse_version(text, expected):
    assert parse_version(text) == expected


def test_filter_accepts_a_dpkg_epoch():
    got = mysql_tuning(16384, disk_class="nvme", flavour="mariadb", version="1:10.11.6-0+deb12u1")
    assert got["innodb_flush_method"] == "O_DIRECT"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12G", str(12 * 1024**3)), ("12884901888", "12884901888"), (2000, "2000"),
     ("O_DIRECT", "O_DIRECT"), ("o_direct", "O_DIRECT"), ("ON", "ON"), (True, "ON"),
     ("off", "OFF"), (0, "0"), ("0", "0")],
)
def test_normalise_value(value, expected):
    assert normalise_value(value) == expected


def test_runtime_differences():
    desired = {"innodb_buffer_pool_size": "12G", "innodb_io_capacity": 2000,
               "innodb_flush_method": "O_DIRECT", "bogus_var": 1}
    runtime = {"innodb_buffer_pool_size": str(12 * 1024**3), "innodb_io_capacity": "100",
               "innodb_flush_method": "O_DIRECT"}
    assert runtime_differences(desired, runtime) == {
        "innodb_io_capacity": {"before": "100", "after": 2000},
        "bogus_var": {"before": None, "after": 1},
    }
