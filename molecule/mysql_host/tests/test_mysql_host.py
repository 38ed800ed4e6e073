"""Verify (testinfra): the live server over the socket and the drop-in agree with the plan."""

from __future__ import annotations

import ipaddress

DROPIN = "/etc/mysql/mariadb.conf.d/90-edgeops.cnf"
GIB = 1024**3


def live(host, name):
    """A global variable read over the unix socket as root (no password)."""
    return host.check_output("mariadb --protocol=socket -N -B -e 'SELECT @@GLOBAL.%s'", name).strip()


def file_values(host):
    values = {}
    for line in host.file(DROPIN).content_string.splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_service_enabled_and_running(host):
    service = host.service("mariadb")
    assert service.is_enabled
    assert service.is_running


def test_dropin_owned_and_complete(host):
    dropin = host.file(DROPIN)
    assert dropin.user == "root"
    assert dropin.mode == 0o644
    values = file_values(host)
    assert values["innodb_buffer_pool_size"] == "1G"
    assert values["innodb_log_file_size"] == "512M"
    assert values["innodb_io_capacity"] == "2000"
    assert values["innodb_io_capacity_max"] == "4000"
    assert values["skip_name_resolve"] == "ON"
    assert ipaddress.ip_address(values["bind_address"]).is_private


def test_live_variables_match_the_file(host):
    values = file_values(host)
    assert int(live(host, "innodb_buffer_pool_size")) == GIB
    assert int(live(host, "innodb_log_file_size")) == 512 * 1024**2
    assert live(host, "innodb_io_capacity") == "2000"
    assert live(host, "innodb_io_capacity_max") == "4000"
    assert live(host, "innodb_flush_neighbors") == "0"
    assert live(host, "bind_address") == values["bind_address"]
    assert live(host, "skip_name_resolve") == "1"
    version = live(host, "version")
    if version.startswith("10."):
        assert live(host, "innodb_flush_method") == "O_DIRECT"
        assert "innodb_data_file_buffering" not in values
    else:
        assert live(host, "innodb_data_file_buffering") == "0"
        assert "innodb_flush_method" not in values


def test_listens_on_the_private_address_only(host):
    address = file_values(host)["bind_address"]
    sockets = [s for s in host.socket.get_listening_sockets() if s.endswith(":3306")]
    assert sockets == [f"tcp://{address}:3306"]


def test_no_rollback_copies_left(host):
    leftovers = host.check_output("ls -a /etc/mysql/mariadb.conf.d/").split()
    assert [f for f in leftovers if f.startswith("90-edgeops.cnf.")] == []


def test_drill_rows_survived(host):
    out = host.check_output("mariadb -N -B -e 'SELECT COUNT(*), SUM(v) FROM edgeops_drill.t'")
    assert out.split() == ["1000", str(7 * 1000 * 1001 // 2)]
