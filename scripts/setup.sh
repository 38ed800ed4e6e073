#!/usr/bin/env bash
# Set up this checkout on a fresh Debian 12 machine (run as root):
# system packages, the Python venv with the edgeops package and its test
# tools, and the collection placed where Ansible finds it.  Idempotent.
#
#   bash scripts/setup.sh                   set up (or bring up to date)
#   bash scripts/setup.sh --list-packages   print the apt packages it installs
#   bash scripts/setup.sh --system-only     install those packages only (no venv, no npm tools)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# One package per line, with the reason where it is not obvious.  This list
# is read by tests/system/test_fresh_machine.py, which installs exactly these
# packages into a clean Debian 12 root filesystem and checks that every
# command the project runs is there.
apt_packages=(
  podman              # the lab and the molecule scenarios
  runc                # podman's runtime here (crun is not used: see edgeops/lab/data/containers.conf)
  conmon              # podman's container monitor
  netavark            # podman's network stack for the lab and molecule networks
  aardvark-dns        # name resolution on those networks
  iptables            # netavark programs the networks' NAT/forwarding rules with it
  uidmap              # newuidmap/newgidmap for podman
  slirp4netns         # podman's user-mode network (rootless runs, molecule defaults)
  debootstrap         # builds the Debian root filesystems of the lab images
  fio                 # bench/fsync_probe.py: the reference fsync measurement
  sysbench            # bench/mysql_tuning.py
  e2fsprogs           # mkfs.ext4, tests and benches on loop devices
  xfsprogs            # mkfs.xfs
  util-linux          # losetup, blkid, wipefs, mount
  mount               # losetup, mount, umount on Debian 12
  procps              # pgrep (tests); not in a minbase system
  python3-venv        # the .venv that holds edgeops and its tools
  git                 # the audit record's commit, ansible-galaxy, the changelog tools
  shellcheck          # lint of the project's shell scripts
  openssh-client      # ssh, ssh-keygen: the lab's SSH connection (edgeops lab up, ansible); SSH-signed audit anchors
  gnupg               # gpg, gpg-agent: OpenPGP-signed audit anchors and their verification (git tag -s, git verify-tag)
  rsync               # gitlab-ci-local copies each job's tracked files with it (tests/integration)
  # scripts/build_kubernetes.sh builds the real kubeadm 1.20.2 the integration tests run
  # (and the lab's Kubernetes packages) from Debian's source package: listed here, not installed
  # by that script, so the fresh-machine test proves a clean Debian 12 can build it.
  golang-1.19-go      # the Go Debian builds its kubernetes 1.20.2 packages with
  make                # upstream's build: make WHAT=cmd/kubeadm
  gcc                 # cgo (kubelet) and the static pause binary
  libc6-dev           # gcc -static links pause against it
  golang-github-modern-go-reflect2-dev  # reflect2 1.0.2 replaces the tree's 1.0.1, which crashes under Go 1.18+
  dpkg-dev            # dpkg-source unpacks the source package; dpkg-scanpackages indexes the local apt repo
)
# Node.js with npm for gitlab-ci-local (tests/integration): Debian 12's own (nodejs 18, npm 9),
# unless the machine already has an npm - e.g. Node 20 from NodeSource, whose nodejs package
# conflicts with Debian's npm package.
if ! command -v npm >/dev/null; then
  apt_packages+=(nodejs npm)
fi
if [[ ${1:-} == --list-packages ]]; then  # the list above, one per line
  printf '%s\n' "${apt_packages[@]}"
  exit 0
fi

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
if [[ ${1:-} == --system-only ]]; then  # tests/system/test_fresh_machine.py runs this in a clean root
  exit 0
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
  # pip's own chatter (setuptools' editable-install notice, the machine's
  # pip.conf) goes to a log that is shown only when the install fails.
  log=.venv/pip-install.log
  if ! { .venv/bin/python -m pip install -q --upgrade pip &&
         .venv/bin/python -m pip install -q -e ".[test,mitogen]"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: pip install failed (log: $log)" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi

# The collection, where Ansible (and ansible-test) expect it:
# .cache/collections/ansible_collections/edgeops/gitops -> this checkout.
mkdir -p .cache/collections/ansible_collections/edgeops
ln -sfn "$root" .cache/collections/ansible_collections/edgeops/gitops

# gitlab-ci-local (npm), the real runner of extensions/gitlab-ci/.gitlab-ci.yml in
# tests/integration/test_audit_pipelines.py: installed into this checkout (.cache/npm), never
# globally. Pinned: 4.64.1 declares Node >= 18 (Debian 12's nodejs, installed above when the
# machine has no npm); 4.75 needs Node 22.
if [[ ! -x .cache/npm/node_modules/.bin/gitlab-ci-local ]]; then
  if ! command -v npm >/dev/null; then
    echo "setup: npm is missing after the apt step: install Debian's nodejs and npm (apt-get install nodejs npm; gitlab-ci-local 4.64.1 needs Node >= 18)" >&2
    exit 1
  fi
  echo "setup: installing gitlab-ci-local 4.64.1 into .cache/npm" >&2
  npm install --silent --no-audit --no-fund --prefix .cache/npm gitlab-ci-local@4.64.1 >&2
fi

echo "setup: done (source scripts/env.sh to use edgeops, ansible and molecule from this checkout)" >&2
