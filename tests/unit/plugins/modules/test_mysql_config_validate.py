"""Tests for mysql_config_validate's pure parts: the full candidate config and the verdict."""

from __future__ import annotations

import pytest
from ansible_collections.edgeops.gitops.plugins.modules.mysql_config_validate import classify, flatten


@pytest.fixture
def etc(tmp_path):
    """A Debian-like /etc/mysql tree."""
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "mariadb.conf.d").mkdir()
    (tmp_path / "conf.d" / "mysql.cnf").write_text("[mysql]\n")
    (tmp_path / "mariadb.conf.d" / "50-server.cnf").write_text("[mysqld]\nbind-address = 127.0.0.1\n")
    (tmp_path / "mariadb.conf.d" / "99-later.cnf").write_text("[mysqld]\nmax_connections = 99\n")
    (tmp_path / "mariadb.conf.d" / "90-edgeops.cnf.123.2026~").write_text("[mysqld]\nold = 1\n")
    (tmp_path / "my.cnf").write_text(
        f"[client-server]\n!includedir {tmp_path}/conf.d/\n!includedir {tmp_path}/mariadb.conf.d/\n"
    )
    return tmp_path


def test_candidate_takes_the_place_of_a_new_file_in_order(etc):
    dest = etc / "mariadb.conf.d" / "90-edgeops.cnf"
    text, used = flatten(str(etc / "my.cnf"), str(dest), "[mysqld]\ninnodb_io_capacity = 2000\n")
    assert used
    server = text.index("bind-address = 127.0.0.1")
    candidate = text.index("innodb_io_capacity = 2000")
    later = text.index("max_connections = 99")
    assert server < candidate < later
    assert "old = 1" not in text  # backup copies (no .cnf suffix) are not read by the server


def test_candidate_replaces_the_existing_file(etc):
    dest = etc / "mariadb.conf.d" / "90-edgeops.cnf"
    dest.write_text("[mysqld]\ninnodb_io_capacity = 100\n")
    text, used = flatten(str(etc / "my.cnf"), str(dest), "[mysqld]\ninnodb_io_capacity = 2000\n")
    assert used
    assert "innodb_io_capacity = 100" not in text
    assert text.count("innodb_io_capacity") == 1


def test_unread_destination_is_reported(etc):
    text, used = flatten(str(etc / "my.cnf"), str(etc / "elsewhere.cnf"), "[mysqld]\n")
    assert not used
    assert "bind-address" in text


@pytest.mark.parametrize(
    ("stderr", "errors", "warnings"),
    [
        ("2026-11-29 21:21:24 0 [Warning] Could not increase number of max_open_files to more than 1024\n",
         [], []),
        ("2026-11-29 21:21:24 0 [ERROR] mariadbd: unknown variable 'innodb_io_capacityx=2000'\n",
         ["[ERROR] mariadbd: unknown variable 'innodb_io_capacityx=2000'"], []),
        ("2026-11-29 21:26:58 0 [Warning] option 'innodb-data-file-buffering': boolean value 'BOGUS'"
         " wasn't recognized. Set to OFF.\n",
         ["[Warning] option 'innodb-data-file-buffering': boolean value 'BOGUS' wasn't recognized."
          " Set to OFF."], []),
        ("2026-11-29 21:26:58 0 [Warning] --innodb-flush-method is deprecated\n",
         [], ["[Warning] --innodb-flush-method is deprecated"]),
    ],
)
def test_classify(stderr, errors, warnings):
    assert classify(stderr) == (errors, warnings)
