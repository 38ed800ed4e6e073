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
    # MySQL 8.0.30 switches to innodb_redo_log_capacity
    (16384, 8, "ssd", "mysql", "8.0.30",
     {"innodb_buffer_pool_size": "12G", "innodb_redo_log_capacity": "2G",
      "innodb_buffer_pool_instances": 8},
     ["innodb_log_file_size"]),
    (16384, 2, "nvme", "mysql", "8.4.3",
     {"innodb_redo_log_capacity": "2G", "innodb_flush_method": "O_DIRECT"},
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
    (512, 1, "ssd", "mariadb", "10.11",
     {"innodb_buffer_pool_size": "128M", "innodb_log_file_size": "128M"}, []),
    (1024, 1, "ssd", "mariadb", "10.11",
     {"innodb_buffer_pool_size": "512M", "innodb_log_file_size": "512M"}, []),
    (2048, 2, "ssd", "mariadb", "10.11", {"innodb_buffer_pool_size": "1G"}, []),
    (4096, 2, "ssd", "mariadb", "10.11", {"innodb_buffer_pool_size": "2G"}, []),
    (6144, 2, "ssd", "mariadb", "10.11",
     {"innodb_buffer_pool_size": "4608M", "innodb_log_file_size": "512M"}, []),
    # rounding down to chunk x instances: 3000 MB * 50% = 1500 MiB -> 1408M (11 x 128M)
    (3000, 1, "ssd", "mariadb", "10.11", {"innodb_buffer_pool_size": "1408M"}, []),
    # MySQL: 3000 MB, 2 instances -> unit 256M -> 1280M
    (3000, 2, "ssd", "mysql", "8.0.29",
     {"innodb_buffer_pool_size": "1280M", "innodb_buffer_pool_instances": 2}, []),
    (262144, 16, "nvme", "mysql", "8.0.29",
     {"innodb_buffer_pool_size": "192G", "innodb_log_file_size": "2G",
      "innodb_buffer_pool_instances": 8}, []),
    # tiny host without overrides: max_connections lowered to fit, never a failure
    (512, 1, "hdd", "mariadb", "10.11", {"innodb_buffer_pool_size": "128M"}, []),
]


@pytest.mark.parametrize(("memory", "vcpus", "disk", "flavour", "version", "expected", "absent"),
                         CASES)
def test_settings(memory, vcpus, disk, flavour, version, expected, absent):
    got = mysql_tuning(memory, vcpus=vcpus, disk_class=disk, flavour=flavour, version=version)
    for key, value in expected.items():
        assert got[key] == value, (key, got)
    for key in absent:
        assert key not in got, (key, got)


def test_tiny_host_lowers_connections():
    got = mysql_tuning(512, disk_class="ssd", flavour="mariadb", version="10.11")
    assert 10 <= got["max_connections"] < 151


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
    ],
)
def test_errors_are_clear(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=r"edgeops\.gitops\.mysql_tuning") as err:
        mysql_tuning(*args, **kwargs)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10.11", (10, 11, 0)), ("10.11.6-MariaDB-0+deb12u1", (10, 11, 6)),
     ("8.0.29", (8, 0, 29)), ("11.8.3-MariaDB-1 from Debian", (11, 8, 3)), ([8, 0], (8, 0, 0))],
)
def test_parse_version(text, expected):
    assert parse_version(text) == expected


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
