"""edgeops.inventory_check: every inventory source is parsed before a run; a failure is one line.

Issue 16 item 9: with ansible-core's defaults a broken source is a [WARNING] and an empty
inventory (ansible-core's [inventory] unparsed_is_failed / any_unparsed_is_failed, both false by
default: https://docs.ansible.com/ansible/latest/reference_appendices/config.html#inventory-unparsed-failed).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeops.errors import EdgeopsError
from edgeops.inventory_check import check_inventory, source_problem
from tests.unit.plugins.inventory.test_terraform_state import install_collection_loader

TFCONFIG = "plugin: edgeops.gitops.terraform_state\nstate_file: {state}\n"
GOOD_STATE = {"version": 4, "resources": [{
    "mode": "managed", "type": "libvirt_domain", "name": "db",
    "instances": [{"attributes": {"name": "db-1", "network_interface": [{"addresses": ["10.0.0.5"]}]}}],
}]}
# OpenTofu's encrypted payload: opentofu/opentofu internal/encryption/base.go (basedata)
ENCRYPTED = {"serial": 1, "lineage": "x", "meta": {"key_provider.pbkdf2.k": "e30="},
             "encrypted_data": "bm90IHJlYWw=", "encryption_version": "v0"}


@pytest.fixture(autouse=True, scope="module")
def collection_loader() -> None:
    install_collection_loader()


def write(tmp_path: Path, files: dict[str, str | dict]) -> None:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))


# (files, source, expected words in the one-line reason)
CASES = [
    ({}, "hosts.yml", ["does not exist"]),
    ({"hosts.json": "{not json"}, "hosts.json", ["yaml plugin: YAML parsing failed"]),
    ({"hosts.yml": "all: [unclosed\n"}, "hosts.yml", ["auto plugin: YAML parsing failed"]),
    ({"prod.terraform_state.yml": TFCONFIG.format(state="gone.tfstate")}, "prod.terraform_state.yml",
     ["auto plugin: edgeops.gitops.terraform_state:", "gone.tfstate does not exist"]),
    ({"prod.terraform_state.yml": TFCONFIG.format(state="s.tfstate"), "s.tfstate": ENCRYPTED},
     "prod.terraform_state.yml", ["is encrypted (OpenTofu state encryption", "decrypt it first"]),
    ({"prod.terraform_state.yml": TFCONFIG.format(state="s.tfstate"), "s.tfstate": "{corrupt"},
     "prod.terraform_state.yml", ["s.tfstate is not valid JSON"]),
    ({"inv/group_vars/all.yml": "a: 1\n"}, "inv", ["no inventory file in it"]),
    ({"inv/hosts.yml": "all:\n  hosts:\n    a:\n", "inv/bad.yml": "all: [x\n"}, "inv",
     ["inv/bad.yml: auto plugin: YAML parsing failed"]),
]


@pytest.mark.parametrize(("files", "source", "words"), CASES,
                         ids=["missing", "corrupt-json", "corrupt-yaml", "state-missing", "state-encrypted",
                              "state-corrupt", "vars-only-dir", "dir-with-broken-file"])
def test_the_reason_is_named_in_one_line(tmp_path: Path, files: dict, source: str, words: list) -> None:
    write(tmp_path, files)
    problem = source_problem(tmp_path / source)
    assert problem and "\n" not in problem
    for word in words:
        assert word in problem, problem


def test_check_inventory_raises_for_the_first_failing_source(tmp_path: Path) -> None:
    """Through the child process, as the command line runs it."""
    write(tmp_path, {"good.yml": "all:\n  hosts:\n    a:\n", "bad.yml": "all: [x\n",
                     "prod.terraform_state.yml": TFCONFIG.format(state="s.tfstate"), "s.tfstate": ENCRYPTED})
    sources = [tmp_path / "good.yml", tmp_path / "prod.terraform_state.yml", tmp_path / "bad.yml"]
    with pytest.raises(EdgeopsError) as err:
        check_inventory(sources)
    message = err.value.message
    prefix = f"inventory {sources[1]}: auto plugin: edgeops.gitops.terraform_state: "
    assert message.startswith(prefix), message
    assert "is encrypted (OpenTofu state encryption" in message and "\n" not in message
    assert err.value.hint and "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED" in err.value.hint
    check_inventory(sources[:1])  # a good source passes


def test_good_sources_pass(tmp_path: Path) -> None:
    write(tmp_path, {"inv/hosts.yml": "all:\n  hosts:\n    a:\n", "inv/group_vars/all.yml": "x: 1\n",
                     "tf/prod.terraform_state.yml": TFCONFIG.format(state="s.tfstate"),
                     "tf/s.tfstate": GOOD_STATE})
    for source in ("inv", "tf/prod.terraform_state.yml", "inv/hosts.yml"):
        assert source_problem(tmp_path / source) is None


def test_the_example_ansible_cfg_makes_plain_ansible_fail_the_same_way() -> None:
    """ansible-core [inventory] unparsed_is_failed / any_unparsed_is_failed (config reference above)."""
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(Path(__file__).resolve().parents[3] / "inventory" / "example" / "ansible.cfg")
    assert cfg.getboolean("inventory", "unparsed_is_failed")
    assert cfg.getboolean("inventory", "any_unparsed_is_failed")
    assert ".tfstate" in cfg.get("inventory", "ignore_extensions")
