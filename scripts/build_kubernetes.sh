#!/usr/bin/env bash
# Build real Kubernetes v1.20.2 binaries from Debian 12's own source package
# `kubernetes` (the full upstream v1.20.2 tree with vendor/), package them as
# local .debs and a flat apt repository.  Run as root on Debian 12; the build
# tools (golang-1.19-go, make, gcc, dpkg-dev) come from scripts/setup.sh.
#
#   bash scripts/build_kubernetes.sh              everything: the five binaries, pause, .debs, apt repo
#   bash scripts/build_kubernetes.sh kubeadm      only these binaries (what the kubeadm config checks need)
#   bash scripts/build_kubernetes.sh --print-dir  print the cache directory and exit
#   bash scripts/build_kubernetes.sh --print-source  print the path of the upstream tarball and exit
#   bash scripts/build_kubernetes.sh --fetch-source  download the source package (cached), print that path
#
# Results are cached outside the checkout, keyed by the source package
# version, so every clone on the machine reuses them; a second run only
# checks that they are there:
#
#   /var/cache/edgeops/kubernetes-src/           the downloaded source package (.dsc, orig tarball, debian tarball)
#   /var/cache/edgeops/kubernetes/<version>/bin/ kubeadm kubelet kube-apiserver kube-controller-manager kube-scheduler pause
#   /var/cache/edgeops/kubernetes/<version>/repo/ the .debs (kubeadm, kubelet, kubectl, kubernetes-control-plane),
#                                                Packages and Release of a flat apt repository:
#                                                deb [trusted=yes] file:<that directory> ./
#   /var/cache/edgeops/kubernetes/<version>/build/ the unpacked tree (kept: it holds the Go build cache)
#
# The source is fetched with `apt-get source` through a private apt
# configuration (a deb-src list and state directory of its own); the host's
# /etc/apt is never touched.  The build is upstream's own (`make WHAT=cmd/...`,
# GOPATH mode, the code generators first), with Debian's Go 1.19 - the Go
# Debian builds its kubectl 1.20.2 with.  kubectl itself is Debian's package
# kubernetes-client (same source, same version).
#
# Environment: EDGEOPS_CACHE (default /var/cache/edgeops); EDGEOPS_K8S_GOFLAGS
# (default -p=1: one compile job at a time on a shared machine);
# EDGEOPS_K8S_NICE (default 10).
set -euo pipefail

src_package=kubernetes
src_version=1.20.5+really1.20.2-1.1+deb12u1   # Debian 12 (bookworm), security update
upstream_version=1.20.2
deb_version=1.20.2-00edgeops1                    # the version the kubeadm role pins
binaries_all=(kubeadm kubelet kube-apiserver kube-controller-manager kube-scheduler)
# What changes the binaries beyond the source package: bump it and the cache is rebuilt.
#   reflect2-1.0.2: the tree vendors github.com/modern-go/reflect2 v1.0.1, which crashes under
#   Go 1.18 and later (SIGSEGV in aeshashbody from kubeadm config migrate, measured here);
#   v1.0.2 is its fix, the one later Kubernetes releases vendor.  Debian 12 packages it
#   (golang-github-modern-go-reflect2-dev), so it replaces the vendored copy before the build.
recipe="go1.19 reflect2-1.0.2"
reflect2_src=/usr/share/gocode/src/github.com/modern-go/reflect2

cache=${EDGEOPS_CACHE:-/var/cache/edgeops}
src_dir=$cache/kubernetes-src
out=$cache/kubernetes/$src_version
build=$out/build
tree=$build/kubernetes-$upstream_version

say() { printf 'build_kubernetes: %s\n' "$*" >&2; }
elapsed() { local s=$1; printf '%dm%02ds' $((s / 60)) $((s % 60)); }

download_source() {  # the source package into $src_dir (apt-get only; shared, under a lock)
  local dsc=$src_dir/${src_package}_${src_version}.dsc
  mkdir -p "$src_dir"
  # The download directory is shared with other users of the same tarball.
  exec 8>"$cache/kubernetes-src.lock"
  flock 8
  if [[ ! -f $dsc ]]; then
    local apt_dir
    apt_dir=$(mktemp -d)
    mkdir -p "$apt_dir/lists/partial"
    cat > "$apt_dir/sources.list" <<EOF
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
EOF
    local apt=(apt-get -q -o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=-
               -o "Dir::State::Lists=$apt_dir/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
               -o APT::Sandbox::User=root)  # the download dir is root's: no _apt sandbox warning
    say "fetching source package $src_package $src_version (private apt configuration $apt_dir)"
    "${apt[@]}" update >&2
    (cd "$src_dir" && "${apt[@]}" --download-only source "$src_package=$src_version" >&2)
    rm -rf "$apt_dir"
  fi
  flock -u 8
}

case ${1:-} in
  --print-dir) echo "$out"; exit 0 ;;
  --print-source) echo "$src_dir/${src_package}_${src_version%-*}.orig.tar.gz"; exit 0 ;;
  --fetch-source) download_source; echo "$src_dir/${src_package}_${src_version%-*}.orig.tar.gz"; exit 0 ;;
esac
want_debs=1
binaries=("${binaries_all[@]}")
if (($#)); then
  want_debs=0
  binaries=()
  for b in "$@"; do
    [[ " ${binaries_all[*]} " == *" $b "* ]] || {
      echo "build_kubernetes: unknown binary '$b' (one of: ${binaries_all[*]})" >&2; exit 64; }
    binaries+=("$b")
  done
fi

for tool in /usr/lib/go-1.19/bin/go make gcc dpkg-source dpkg-deb dpkg-scanpackages apt-get; do
  command -v "$tool" >/dev/null || {
    echo "build_kubernetes: $tool is missing: run 'bash scripts/setup.sh --system-only' (it installs the build tools)" >&2
    exit 1; }
done

[[ -f $reflect2_src/go_above_118.go ]] || {
  echo "build_kubernetes: $reflect2_src is missing: run 'bash scripts/setup.sh --system-only' (it installs the build tools)" >&2
  exit 1; }
mkdir -p "$src_dir" "$out/bin"
if [[ $(cat "$out/bin/.recipe" 2>/dev/null) != "$recipe" ]]; then
  [[ -z $(ls "$out/bin") ]] || say "cache built by another recipe: rebuilding ($recipe)"
  rm -rf "${out:?}/bin" "${out:?}/repo"
  mkdir -p "$out/bin"
  echo "$recipe" > "$out/bin/.recipe"
fi

fetch_source() {
  local dsc=$src_dir/${src_package}_${src_version}.dsc
  download_source
  # dpkg-source checks the files' checksums against the .dsc and applies Debian's patches.
  if [[ ! -f $tree/.edgeops-unpacked ]]; then
    say "unpacking into $tree"
    rm -rf "$tree"
    mkdir -p "$build"
    dpkg-source -x "$dsc" "$tree" >&2
    touch "$tree/.edgeops-unpacked"
  fi
  if ! cmp -s "$reflect2_src/go_above_118.go" "$tree/vendor/github.com/modern-go/reflect2/go_above_118.go"; then
    say "vendoring Debian's github.com/modern-go/reflect2 1.0.2 (the fix for Go 1.18 and later)"
    rm -rf "$tree/vendor/github.com/modern-go/reflect2"
    cp -r "$reflect2_src" "$tree/vendor/github.com/modern-go/reflect2"
  fi
}

build_binary() {  # build_binary NAME: make WHAT=cmd/NAME, copy to $out/bin atomically
  local name=$1 t0=$SECONDS
  say "building $name (make WHAT=cmd/$name, GOFLAGS=$GOFLAGS)"
  (cd "$tree" && nice -n "${EDGEOPS_K8S_NICE:-10}" make WHAT="cmd/$name" >&2)
  cp "$tree/_output/bin/$name" "$out/bin/.$name.tmp"
  mv "$out/bin/.$name.tmp" "$out/bin/$name"
  say "built $name in $(elapsed $((SECONDS - t0)))"
  echo "$name $((SECONDS - t0))" >> "$out/build-times.txt"
}

build_pause() {  # the pod sandbox's pause, from the tarball's own source, static
  local t0=$SECONDS
  say "building pause (gcc -static build/pause/linux/pause.c)"
  gcc -Os -Wall -Werror -static -DVERSION="v3.4.1-edgeops" -o "$out/bin/.pause.tmp" "$tree/build/pause/linux/pause.c"
  mv "$out/bin/.pause.tmp" "$out/bin/pause"
  say "built pause in $(elapsed $((SECONDS - t0)))"
  echo "pause $((SECONDS - t0))" >> "$out/build-times.txt"
}

# The packages' shape, as upstream's 1.20 packages (kubernetes/release, kubepkg templates) with
# what Debian 12 has instead of what it lacks:
#   kubelet  Depends iptables (>= 1.4.21), iproute2, socat, util-linux, mount, ebtables, ethtool,
#            conntrack, and the CNI plugins: upstream's kubernetes-cni is Debian's
#            containernetworking-plugins here.  lib/systemd/system/kubelet.service, enabled on
#            install (upstream's dh_systemd_enable), not started: it has no configuration before
#            kubeadm init/join writes /var/lib/kubelet/config.yaml.
#   kubeadm  Depends kubelet and kubectl of the same version; ships kubeadm's kubelet drop-in
#            10-kubeadm.conf.  Upstream's cri-tools dependency is left out: no registry reachable
#            here has crictl.
#   kubectl  Debian's own kubectl 1.20.2 (kubernetes-client, built from the same source package).
# Bump pkg_recipe when the packaging changes: the repository is rebuilt from the cached binaries.
pkg_recipe="debs-2 $deb_version"

deb_of() {  # deb_of PACKAGE DESCRIPTION DEPENDS BINARY... -> $out/repo.tmp/PACKAGE_VERSION_amd64.deb
  local pkg=$1 desc=$2 depends=$3; shift 3
  local root
  root=$(mktemp -d)
  chmod 0755 "$root"  # the package's ./ (mktemp makes it 0700)
  mkdir -p "$root/DEBIAN" "$root/usr/bin"
  for b in "$@"; do install -m 0755 "$out/bin/$b" "$root/usr/bin/$b"; done
  cat > "$root/DEBIAN/control" <<EOF
Package: $pkg
Version: $deb_version
Architecture: amd64
Maintainer: edgeops.gitops <edgeops@localhost>
Section: admin
Priority: optional
Homepage: https://kubernetes.io
${depends:+Depends: $depends
}Description: $desc
 Built by edgeops.gitops scripts/build_kubernetes.sh from Debian's source
 package $src_package $src_version (upstream v$upstream_version) with Go 1.19.
EOF
  case $pkg in
    kubelet)
      mkdir -p "$root/lib/systemd/system"
      cat > "$root/lib/systemd/system/kubelet.service" <<'EOF'
[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/home/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
EOF
      cat > "$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
# Enabled like upstream's package (dh_systemd_enable); started by kubeadm init/join, which write its configuration.
if [ "$1" = configure ]; then
    deb-systemd-helper enable kubelet.service >/dev/null || true
    if [ -d /run/systemd/system ]; then
        systemctl --system daemon-reload >/dev/null || true
    fi
fi
EOF
      cat > "$root/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
    deb-systemd-invoke stop kubelet.service >/dev/null || true
fi
EOF
      cat > "$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = purge ]; then
    deb-systemd-helper purge kubelet.service >/dev/null || true
fi
EOF
      chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
      ;;
    kubeadm)  # kubeadm's drop-in, as upstream's kubeadm package ships it (v1.20)
      mkdir -p "$root/lib/systemd/system/kubelet.service.d"
      cat > "$root/lib/systemd/system/kubelet.service.d/10-kubeadm.conf" <<'EOF'
# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use
# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
EOF
      ;;
  esac
  # gzip, not dpkg-deb's default xz: several times faster on the shared cores, for a repository that stays local.
  nice -n "${EDGEOPS_K8S_NICE:-10}" dpkg-deb -Zgzip --root-owner-group --build "$root" "$out/repo.tmp/${pkg}_${deb_version}_amd64.deb" >&2
  rm -rf "$root"
}

release_of() {  # release_of DIR: a flat repository's Release (unsigned: apt reads it with [trusted=yes])
  local dir=$1 f
  {
    printf 'Origin: edgeops.gitops\nLabel: edgeops Kubernetes %s\nArchitectures: amd64\n' "$upstream_version"
    printf 'Date: %s\n' "$(LC_ALL=C date -u -R)"
    printf 'Description: Kubernetes %s built from Debian %s %s by scripts/build_kubernetes.sh\n' \
      "$upstream_version" "$src_package" "$src_version"
    printf 'SHA256:\n'
    for f in Packages Packages.gz; do
      printf ' %s %s %s\n' "$(sha256sum "$dir/$f" | cut -d' ' -f1)" "$(stat -c %s "$dir/$f")" "$f"
    done
  } > "$dir/Release"
}

build_repo() {  # the .debs, Packages and Release into $out/repo.tmp, then in place of $out/repo
  local t0=$SECONDS
  say "packaging .debs and the flat apt repository in $out/repo"
  rm -rf "$out/repo.tmp"
  mkdir -p "$out/repo.tmp"
  deb_of kubelet "Kubernetes node agent (kubelet)" \
    "iptables (>= 1.4.21), iproute2, socat, util-linux, mount, ebtables, ethtool, conntrack, containernetworking-plugins" \
    kubelet
  deb_of kubeadm "Kubernetes cluster bootstrapping tool (kubeadm)" \
    "kubelet (= $deb_version), kubectl (= $deb_version)" kubeadm
  deb_of kubectl "Kubernetes command line (kubectl): Debian's kubernetes-client of the same source" \
    "kubernetes-client (= $src_version)"
  deb_of kubernetes-control-plane "Kubernetes control plane binaries and the pod sandbox's pause" "" \
    kube-apiserver kube-controller-manager kube-scheduler pause
  (cd "$out/repo.tmp" && dpkg-scanpackages --multiversion . /dev/null > Packages 2>/dev/null && gzip -9kf Packages)
  release_of "$out/repo.tmp"
  echo "$pkg_recipe" > "$out/repo.tmp/.complete"
  rm -rf "$out/repo"
  mv "$out/repo.tmp" "$out/repo"
  say "packaged in $(elapsed $((SECONDS - t0)))"
}

missing() {  # the requested binaries not in the cache yet
  todo=()
  for b in "${binaries[@]}"; do [[ -x $out/bin/$b ]] || todo+=("$b"); done
}

t_all=$SECONDS
export PATH=/usr/lib/go-1.19/bin:$PATH GOFLAGS=${EDGEOPS_K8S_GOFLAGS--p=1}
missing
repo_current() { [[ $(cat "$out/repo/.complete" 2>/dev/null) == "$pkg_recipe" ]]; }
if ((${#todo[@]})) || { ((want_debs)) && ! repo_current; }; then
  # One build at a time per version, whichever checkout starts it; what another one built
  # while this one waited is not built again.
  say "waiting for the build lock $out/.lock"
  exec 9>"$out/.lock"
  flock 9
  missing
fi
if ((${#todo[@]})); then
  fetch_source
  if [[ ! -f $tree/.edgeops-generated ]]; then
    t0=$SECONDS
    say "running upstream's code generators (make generated_files)"
    (cd "$tree" && nice -n "${EDGEOPS_K8S_NICE:-10}" make generated_files >&2)
    touch "$tree/.edgeops-generated"
    say "generated files in $(elapsed $((SECONDS - t0)))"
    echo "generated_files $((SECONDS - t0))" >> "$out/build-times.txt"
  fi
  for b in "${todo[@]}"; do build_binary "$b"; done
fi
for b in "${binaries[@]}"; do say "cached: $out/bin/$b"; done
if ((want_debs)); then
  if [[ ! -x $out/bin/pause ]]; then fetch_source; build_pause; fi
  repo_current || build_repo
  say "apt repository: deb [trusted=yes] file:$out/repo ./"
fi
say "done in $(elapsed $((SECONDS - t_all)))"
