# Source me: puts this checkout's venv, collection and podman settings in the environment.
# shellcheck shell=bash
_edgeops_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$_edgeops_root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$_edgeops_root/.cache/collections"
export CONTAINERS_CONF="$_edgeops_root/edgeops/lab/data/containers.conf"
export ANSIBLE_CONFIG="$_edgeops_root/ansible.cfg"
unset _edgeops_root
# Ansible refuses a locale that is not UTF-8, and a fresh Debian root shell often has none set
# (LANG=C or nothing): then use C.UTF-8, which comes with Debian's libc.
case "${LC_ALL:-${LC_CTYPE:-${LANG:-}}}" in
  *UTF-8* | *utf-8* | *UTF8* | *utf8*) ;;
  *) export LC_ALL=C.UTF-8 ;;
esac
