#!/usr/bin/env bash
# Set up this checkout on a fresh Debian 12 machine (run as root):
# system packages, the Python venv with the edgeops package and its test
# tools, and the collection placed where Ansible finds it.  Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

apt_packages=(
  podman runc netavark aardvark-dns conmon uidmap slirp4netns
  debootstrap fio sysbench e2fsprogs xfsprogs util-linux
  python3-venv git shellcheck
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# The Python that creates the venv: python3.11+ from PATH.
py=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv with $($py --version)" >&2
  "$py" -m venv .venv
fi
stamp=.venv/.edgeops-deps
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "setup: installing the edgeops package and its test tools into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip >&2
  .venv/bin/python -m pip install -q -e ".[test]" >&2
  echo "$want" > "$stamp"
fi

# The collection, where Ansible (and ansible-test) expect it:
# .cache/collections/ansible_collections/edgeops/gitops -> this checkout.
mkdir -p .cache/collections/ansible_collections/edgeops
ln -sfn "$root" .cache/collections/ansible_collections/edgeops/gitops
echo "setup: done (source scripts/env.sh to use edgeops, ansible and molecule from this checkout)" >&2
