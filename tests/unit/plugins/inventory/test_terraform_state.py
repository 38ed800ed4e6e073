"""Tests for the edgeops.gitops.terraform_state inventory plugin.

The plugin is loaded through Ansible's real plugin loader and parsed into a real
InventoryData; ``ansible-inventory --graph`` is run once end to end on the example.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader, inventory_loader
from ansible.utils.collection_loader._collection_config import AnsibleCollectionConfig
from ansible_collections.edgeops.gitops.plugins.inventory.terraform_state import (
    hosts_from_state,
    load_state,
    pick_address,
    walk_path,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
FIXTURES = HERE / "fixtures"
KVM_STATE = FIXTURES / "kvm_reference.tfstate"
EXAMPLE = ROOT / "inventory" / "example" / "terraform"
COLLECTIONS = ROOT / ".cache" / "collections"

REFERENCE_GROUPS = {
    "k8s_master": ["k8s-master-01"],
    "k8s_worker": ["k8s-worker-0", "k8s-worker-1", "k8s-worker-2"],
    "mysql": ["mysql-01"],
}


def install_collection_loader() -> None:
    """Ansible's collection finder, installed as the CLIs do it (once per process).

    Test modules collected earlier may have imported ``ansible_collections`` through plain
    ``sys.path``; the collection finder must load those packages itself, so drop them first.
    """
    if AnsibleCollectionConfig.collection_finder is not None:
        return
    for name in [m for m in sys.modules if m.split(".")[0] == "ansible_collections"]:
        del sys.modules[name]
    init_plugin_loader([str(COLLECTIONS)])


@pytest.fixture(scope="module")
def plugin_loader():
    install_collection_loader()
    return inventory_loader


def parse(plugin_loader, config_path: Path, cache=True):
    plugin = plugin_loader.get("edgeops.gitops.terraform_state")
    assert plugin is not None, "plugin not found by the plugin loader"
    assert plugin.verify_file(str(config_path))
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(config_path), cache=cache)
    # what InventoryManager.parse_source does after a parse (no cache options: no cache object)
    with contextlib.suppress(AttributeError):
        plugin.update_cache_if_changed()
    return inventory


def groups_of(inventory: InventoryData) -> dict[str, list[str]]:
    return {
        name: sorted(h.name for h in group.get_hosts())
        for name, group in inventory.groups.items()
        if name not in ("all", "ungrouped")
    }


def write_config(tmp_path: Path, state: Path | str | dict, **options) -> Path:
    if isinstance(state, dict):
        (tmp_path / "terraform.tfstate").write_text(json.dumps(state))
        state = "terraform.tfstate"
    config = {"plugin": "edgeops.gitops.terraform_state", "state_file": str(state), **options}
    path = tmp_path / "prod.terraform_state.yml"
    path.write_text(yaml.safe_dump(config))
    return path


# --- the reference topology ----------------------------------------------------------------------


def test_kvm_state_default_options_give_reference_topology(plugin_loader, tmp_path):
    """Default: any managed resource with an IP attribute; networks, volumes, data sources ignored."""
    inventory = parse(plugin_loader, write_config(tmp_path, KVM_STATE))
    # mysql-01 is declared in module.database: it joins that module's group too
    assert groups_of(inventory) == {**REFERENCE_GROUPS, "database": ["mysql-01"]}
    master = inventory.get_host("k8s-master-01").vars
    assert master["ansible_host"] == "10.30.0.10"  # IPv4 private beats the link-local IPv6
    assert master["terraform_address"] == "libvirt_domain.k8s_master"
    assert master["terraform_index"] is None
    worker = inventory.get_host("k8s-worker-2").vars
    assert worker["terraform_address"] == "libvirt_domain.k8s_worker[2]"
    assert worker["terraform_index"] == 2
    assert worker["terraform_attributes"]["memory"] == 16384
    mysql = inventory.get_host("mysql-01").vars
    assert mysql["terraform_address"] == 'module.database.libvirt_domain.mysql["mysql-01"]'
    assert mysql["terraform_module"] == "module.database"


def test_sensitive_attributes_never_reach_hostvars(plugin_loader, tmp_path):
    inventory = parse(plugin_loader, write_config(tmp_path, KVM_STATE))
    attrs = inventory.get_host("mysql-01").vars["terraform_attributes"]
    assert "description" not in attrs
    assert "mac" not in attrs["network_interface"][0]
    assert "s3cr3t" not in json.dumps(inventory.get_host("mysql-01").vars)
    # ... while the state file itself is untouched
    assert "s3cr3t-db-pass" in KVM_STATE.read_text()


def test_example_upcloud_state_with_constructed_options(plugin_loader):
    inventory = parse(plugin_loader, EXAMPLE / "terraform_state.yml")
    groups = groups_of(inventory)
    for name, hosts in REFERENCE_GROUPS.items():
        assert groups[name] == hosts
    assert groups["k8s_cluster"] == REFERENCE_GROUPS["k8s_master"] + REFERENCE_GROUPS["k8s_worker"]
    assert groups["plan_4xCPU_8GB"] == ["k8s-master-01"]
    assert groups["plan_6xCPU_16GB"] == ["k8s-worker-0", "k8s-worker-1", "k8s-worker-2", "mysql-01"]
    assert groups["zone_fi_hel1"] == sorted(h for hosts in REFERENCE_GROUPS.values() for h in hosts)
    # private interface wins over the public one listed first
    assert inventory.get_host("k8s-worker-1").vars["ansible_host"] == "10.20.0.21"
    assert inventory.get_host("mysql-01").vars["edgeops_plan"] == "6xCPU-16GB"
    # user_data is sensitive in the state (it carries a join token)
    master = inventory.get_host("k8s-master-01").vars
    assert "user_data" not in master["terraform_attributes"]
    assert "abcdef.0123456789abcdef" not in json.dumps(master)


def test_ansible_inventory_graph_shows_reference_topology():
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS))
    exe = Path(sys.executable).with_name("ansible-inventory")
    result = subprocess.run(
        [str(exe), "-i", str(EXAMPLE / "terraform_state.yml"), "--graph"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    graph = result.stdout
    assert "[WARNING]" not in result.stderr, result.stderr
    for group, hosts in REFERENCE_GROUPS.items():
        block = graph.split(f"@{group}:\n", 1)[1].split("@", 1)[0]
        assert sorted(line.strip(" |-") for line in block.splitlines() if line.strip(" |-")) == hosts


# --- options -------------------------------------------------------------------------------------


def test_public_address_when_private_not_preferred(plugin_loader, tmp_path):
    config = write_config(
        tmp_path,
        (EXAMPLE / "terraform.tfstate").resolve(),
        prefer_private=False,
        resource_types=["upcloud_server"],
    )
    inventory = parse(plugin_loader, config)
    assert inventory.get_host("k8s-worker-1").vars["ansible_host"] == "94.237.10.21"
    # mysql-01 has only a private interface
    assert inventory.get_host("mysql-01").vars["ansible_host"] == "10.20.0.30"


def test_resource_types_and_group_prefix(plugin_loader, tmp_path):
    state = json.loads(KVM_STATE.read_text())
    state["resources"][3]["type"] = "libvirt_domain_worker_kind"
    config = write_config(tmp_path, state, resource_types=["libvirt_domain"], group_prefix="tf_")
    assert groups_of(parse(plugin_loader, config)) == {
        "tf_k8s_master": ["k8s-master-01"],
        "tf_mysql": ["mysql-01"],
        "tf_database": ["mysql-01"],
    }


def test_hostname_fallback_is_resource_name_and_index(plugin_loader, tmp_path):
    config = write_config(tmp_path, KVM_STATE, hostname_attributes=["no_such_attribute"])
    groups = groups_of(parse(plugin_loader, config))
    assert groups["k8s_worker"] == [f"libvirt_domain_k8s_worker_{i}" for i in range(3)]
    assert groups["k8s_master"] == ["libvirt_domain_k8s_master"]
    assert groups["mysql"] == ["libvirt_domain_mysql_mysql-01"]


def test_cache_serves_hosts_until_flushed(plugin_loader, tmp_path):
    state = json.loads(KVM_STATE.read_text())
    config = write_config(
        tmp_path,
        state,
        cache=True,
        cache_plugin="ansible.builtin.jsonfile",
        cache_connection=str(tmp_path / "cache"),
        cache_timeout=600,
    )
    # cache=False (a refresh) reads the state and fills the cache
    assert "mysql" in groups_of(parse(plugin_loader, config, cache=False))
    assert any((tmp_path / "cache").iterdir())
    # the state loses its database host: the cached inventory still has it ...
    state["resources"] = [r for r in state["resources"] if r["name"] != "mysql"]
    (tmp_path / "terraform.tfstate").write_text(json.dumps(state))
    assert "mysql" in groups_of(parse(plugin_loader, config, cache=True))
    # ... until a refresh (ansible-inventory --flush-cache) reads the file again
    assert "mysql" not in groups_of(parse(plugin_loader, config, cache=False))


# --- errors --------------------------------------------------------------------------------------


def _state_with_address(ip):
    return {
        "version": 4,
        "resources": [
            {
                "mode": "managed",
                "type": "libvirt_domain",
                "name": "k8s_master",
                "instances": [
                    {
                        "attributes": {
                            "name": "k8s-master-01",
                            "network_interface": [{"addresses": [ip] if ip else []}],
                        }
                    }
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist; set state_file"),
        ("{not json", "is not valid JSON"),
        ("[]", "expected a JSON object, got list"),
        (json.dumps({"version": 3, "modules": []}), "unsupported format version 3; only version 4"),
        (json.dumps({"version": 3}), "once with Terraform 0.12 or later"),
        (json.dumps({"version": 5, "resources": []}), "unsupported format version 5"),
        # OpenTofu state encryption: opentofu/opentofu internal/encryption/base.go (basedata:
        # meta, encrypted_data, encryption_version; no "version")
        (json.dumps({"serial": 1, "lineage": "x", "meta": {"key_provider.pbkdf2.k": "e30="},
                     "encrypted_data": "bm90IHJlYWw=", "encryption_version": "v0"}),
         "is encrypted (OpenTofu state encryption"),
        (json.dumps(_state_with_address(None)), "libvirt_domain.k8s_master has no usable address"),
        (json.dumps(_state_with_address("10.0.0.0/24")), "libvirt_domain.k8s_master has no usable address"),
    ],
    ids=["missing", "invalid-json", "not-object", "v3", "v3-hint", "v5", "tofu-encrypted", "no-address",
         "cidr-only"],
)
def test_clear_errors(plugin_loader, tmp_path, content, message):
    if content is not None:
        (tmp_path / "terraform.tfstate").write_text(content)
    config = write_config(tmp_path, "terraform.tfstate")
    with pytest.raises(AnsibleParserError, match=r"edgeops\.gitops\.terraform_state: ") as err:
        parse(plugin_loader, config)
    assert message in str(err.value)
    assert str(tmp_path) in str(err.value) or "no usable address" in str(err.value)


def test_duplicate_hostnames_are_an_error():
    state = json.loads(KVM_STATE.read_text())
    state["resources"][3]["instances"][1]["attributes"]["name"] = "k8s-worker-0"
    with pytest.raises(ValueError, match=r"k8s_worker\[0\] and libvirt_domain.k8s_worker\[1\] both"):
        hosts_from_state(state, address_attributes=["network_interface.*.addresses.*"])


def test_deposed_objects_are_not_hosts():
    state = json.loads(KVM_STATE.read_text())
    worker = state["resources"][3]["instances"][0]
    state["resources"][3]["instances"].append({**worker, "deposed": "00000001"})
    hosts = hosts_from_state(state, address_attributes=["network_interface.*.addresses.*"])[0]
    assert [h["name"] for h in hosts].count("k8s-worker-0") == 1


@pytest.mark.parametrize(("mode", "expect_warning"), [("warn", True), ("skip", False)])
def test_missing_address_can_warn_or_skip(mode, expect_warning):
    hosts, warnings = hosts_from_state(
        _state_with_address(None),
        address_attributes=["network_interface.*.addresses.*"],
        on_missing_address=mode,
    )
    assert hosts == []
    assert bool(warnings) is expect_warning


def test_config_file_name_is_checked(plugin_loader, tmp_path):
    plugin = plugin_loader.get("edgeops.gitops.terraform_state")
    other = tmp_path / "hosts.yml"
    other.write_text("plugin: edgeops.gitops.terraform_state\n")
    assert not plugin.verify_file(str(other))


# --- pure helpers (table driven) -----------------------------------------------------------------

ATTRS = {
    "name": "n1",
    "network_interface": [
        {"type": "public", "ip_address": "94.237.1.1", "addresses": ["94.237.1.1"]},
        {"type": "private", "ip_address": "172.20.0.5", "addresses": ["fd00::5", "172.20.0.5"]},
    ],
    "ipv4_address": "203.0.113.9",
    "ip_range": "10.0.0.0/16",
}


@pytest.mark.parametrize(
    ("paths", "prefer_private", "expected"),
    [
        (["network_interface.*.ip_address"], True, "172.20.0.5"),
        (["network_interface.*.ip_address"], False, "94.237.1.1"),
        (["ipv4_address", "network_interface.1.addresses.*"], False, "203.0.113.9"),
        (["network_interface.1.addresses.*"], True, "fd00::5"),  # IPv6 ULA counts as private
        (["ip_range", "name"], True, None),  # CIDRs and names are not addresses
        (["network_interface.5.ip_address"], True, None),
    ],
)
def test_pick_address(paths, prefer_private, expected):
    assert pick_address(ATTRS, paths, prefer_private) == expected


def test_walk_path_fans_out_lists_and_maps():
    assert walk_path({"a": {"x": [1, 2], "y": [3]}}, "a.*.*") == [1, 2, 3]
    assert walk_path({"a": None}, "a") == []


PROVIDERS = yaml.safe_load((FIXTURES / "providers.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", PROVIDERS, ids=[c["name"] for c in PROVIDERS])
def test_defaults_give_one_host_per_machine_private_address_first(plugin_loader, tmp_path, case):
    """Issue 16 item 8: each provider's documented attributes (case["source"]), default options."""
    resources = [{"mode": "managed", **{k: v for k, v in r.items() if k not in ("count", "for_each")}}
                 for r in case["resources"]]
    inventory = parse(plugin_loader, write_config(tmp_path, {"version": 4, "resources": resources}))
    hosts = {name: host.vars["ansible_host"] for name, host in inventory.hosts.items()}
    assert hosts == case["expected"], case["source"]
    groups = groups_of(inventory)
    for group, members in case["groups"].items():
        assert groups[group] == members


def test_load_state_returns_parsed_state():
    assert load_state(str(KVM_STATE))["serial"] == 3
