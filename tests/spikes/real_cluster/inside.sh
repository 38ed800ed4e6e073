#!/bin/bash
# Runs INSIDE the privileged container k8sreal-master (podman exec). /stage ro, /out rw.
# Real kubeadm init of Kubernetes v1.20.2 with docker.io + dockershim, host-safe.
set -u
exec > >(tee -a /out/inside-${1:-master}.log) 2>&1
T0=$SECONDS
step() { echo; echo "=== [$(date -u +%T) +$((SECONDS - T0))s] $*"; }
REPO=edgeops.local
ROLE=${1:-master}            # master: kubeadm init; worker: prepared for kubeadm join (run by session.sh)
SUBNET=${2:-10.244.0.0/24}   # this node's bridge CNI range
NAME=$(hostname)
ADDR=$(ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1)

step "A. protect global sysctls (kubelet's six get files with kubelet's expected values; the rest stay read-only via edgeops-init)"
grep ' /proc/sys' /proc/self/mountinfo | awk '{print $5, $6}'
mkdir -p /run/k8sreal-sysctl
declare -A WANT=(
  [vm/overcommit_memory]=1 [vm/panic_on_oom]=0 [kernel/panic]=10 [kernel/panic_on_oops]=1
  [kernel/keys/root_maxkeys]=1000000 [kernel/keys/root_maxbytes]=25000000
)
for k in "${!WANT[@]}"; do
  f=/run/k8sreal-sysctl/${k//\//_}
  echo "${WANT[$k]}" > "$f"
  mount --bind "$f" "/proc/sys/$k" || { echo "FATAL: cannot bind $k"; exit 90; }
done
# Every other global entry the suite checks: a file holding the current (host) value, so a write
# goes to the file and never to the kernel (they are read-only already; this is belt and braces).
for k in fs/file-max fs/nr_open fs/inotify/max_user_watches fs/inotify/max_user_instances kernel/pid_max vm/max_map_count kernel/threads-max; do
  f=/run/k8sreal-sysctl/${k//\//_}
  cat "/proc/sys/$k" > "$f"; mount --bind "$f" "/proc/sys/$k"
done
for k in "${!WANT[@]}" fs/file-max kernel/pid_max; do echo "inside $k=$(cat /proc/sys/$k)"; done
echo "swap inside:"; swapon --show; free -m | sed -n 1,3p
# net.* is per network namespace (this container's): kubeadm preflight wants these 1.
for k in net/ipv4/ip_forward net/bridge/bridge-nf-call-iptables net/bridge/bridge-nf-call-ip6tables; do
  v=$(cat /proc/sys/$k 2>/dev/null || echo missing); echo "netns $k=$v"
  [ "$v" = 0 ] && echo 1 > /proc/sys/$k
done

step "A2. stop the lab image's own etcd/mariadb (ports 2379/2380 belong to the static etcd pod)"
systemctl disable --now etcd mariadb 2>&1 | tail -2; systemctl is-active etcd mariadb containerd

step "B. apt-get install docker.io containernetworking-plugins kubernetes-client (service starts blocked by policy-rc.d)"
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
export DEBIAN_FRONTEND=noninteractive
tb=$SECONDS
apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends docker.io containernetworking-plugins kubernetes-client >/out/apt.log 2>&1
rc=$?; echo "apt rc=$rc in $((SECONDS - tb))s"; tail -3 /out/apt.log
[ $rc = 0 ] || exit 91
rm -f /usr/sbin/policy-rc.d
dpkg-query -W docker.io containernetworking-plugins kubernetes-client etcd-server runc containerd

step "C. docker (cgroupfs driver, overlay2 on the tmpfs /var/lib/docker)"
mkdir -p /etc/docker; cp /stage/etc/daemon.json /etc/docker/daemon.json
# This machine grants no CAP_SYS_RESOURCE (not in the bounding set of the shell that starts podman:
# CapBnd 000001fffeffffff), so a NEGATIVE oom_score_adj cannot be written (EIO) and runc init dies:
# "runc create failed: unable to start container process: can't get final child's PID from pipe: EOF".
# kubelet's dockershim gives every pod sandbox oom_score_adj -998. Spike workaround: a runc wrapper as
# docker's default runtime that clamps a negative process.oomScoreAdj to 0 (OOM priority only).
REAL_RUNC=$(command -v runc)
cat > /usr/local/sbin/runc-k8sreal <<EOW
#!/bin/bash
b=""; prev=""
for a in "\$@"; do [ "\$prev" = --bundle ] || [ "\$prev" = -b ] && b=\$a; prev=\$a; done
if [ -n "\$b" ] && [ -f "\$b/config.json" ]; then
  python3 -c 'import json,sys
p=sys.argv[1]; c=json.load(open(p)); pr=c.get("process") or {}
if pr.get("oomScoreAdj", 0) < 0:
    pr["oomScoreAdj"] = 0; json.dump(c, open(p, "w"))' "\$b/config.json"
fi
exec $REAL_RUNC "\$@"
EOW
chmod 755 /usr/local/sbin/runc-k8sreal
python3 -c 'import json; p="/etc/docker/daemon.json"; c=json.load(open(p)); c["runtimes"]={"runc-k8sreal":{"path":"/usr/local/sbin/runc-k8sreal"}}; c["default-runtime"]="runc-k8sreal"; json.dump(c,open(p,"w"),indent=1)'
cat /usr/local/sbin/runc-k8sreal
systemctl start docker; sleep 2
docker info 2>&1 | grep -Ei 'server version|storage driver|cgroup|logging driver|kernel|warning' 
docker info >/dev/null 2>&1 || { journalctl -u docker --no-pager | tail -40; exit 92; }
docker info 2>/dev/null | grep -i runtime

step "D. kubeadm + kubelet + CNI + local images"
install -m755 /stage/bin/kubeadm /stage/bin/kubelet /usr/bin/
install -m644 /stage/etc/kubelet.service /lib/systemd/system/kubelet.service
mkdir -p /lib/systemd/system/kubelet.service.d; install -m644 /stage/etc/10-kubeadm.conf /lib/systemd/system/kubelet.service.d/
systemctl daemon-reload; systemctl enable kubelet 2>&1 | tail -1
mkdir -p /opt/cni/bin /etc/cni/net.d; ln -sf /usr/lib/cni/* /opt/cni/bin/; sed "s#10.244.0.0/24#$SUBNET#" /stage/etc/10-edgeops-bridge.conflist > /etc/cni/net.d/10-edgeops-bridge.conflist
ls /opt/cni/bin | tr '\n' ' '; echo
kubeadm version -o short; kubelet --version
sed -e "s/@ADDR@/$ADDR/g" -e "s/@NAME@/$NAME/g" /stage/etc/kubeadm.yaml.in > /root/kubeadm.yaml
[ "$ROLE" = master ] && cp /root/kubeadm.yaml /out/kubeadm.yaml
kubeadm config images list --config /root/kubeadm.yaml | tee /root/images.txt
mkimg() {  # image-ref binary [extra docker import -c ...]
  local ref=$1 bin=$2; shift 2
  local d; d=$(mktemp -d)
  mkdir -p "$d/usr/local/bin" "$d/tmp" "$d/etc" "$d/var/run"; chmod 1777 "$d/tmp"
  cp "$bin" "$d/usr/local/bin/"
  # a dynamically linked binary brings its libraries
  ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do mkdir -p "$d$(dirname "$lib")"; cp -L "$lib" "$d$lib"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$d/etc/passwd"; echo 'root:x:0:' > "$d/etc/group"
  echo 'hosts: files dns' > "$d/etc/nsswitch.conf"
  tar -C "$d" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' "$@" - "$ref" >/dev/null && echo "imported $ref"
  rm -rf "$d"
}
for ref in $(cat /root/images.txt); do
  name=${ref##*/}; name=${name%%:*}
  [ "$ROLE" = worker ] && [ "$name" != pause ] && continue
  case $name in
    kube-apiserver|kube-controller-manager|kube-scheduler|kube-proxy)
      if [ -x /stage/bin/$name ]; then mkimg "$ref" /stage/bin/$name; else echo "NO BINARY for $ref"; fi ;;
    etcd) ldd /usr/bin/etcd 2>&1 | head -3; /usr/bin/etcd --version | head -2; mkimg "$ref" /usr/bin/etcd ;;
    pause) mkimg "$ref" /stage/pause -c 'ENTRYPOINT ["/usr/local/bin/pause"]' ;;
    *) echo "skipped $ref (no binary here; its addon phase is skipped)";;
  esac
done
docker images
if [ "$ROLE" = worker ]; then step "worker prepared in $((SECONDS - T0))s (join is run by session.sh)"; exit 0; fi

step "E. kubeadm preflight (to learn which checks a container fails)"
kubeadm init phase preflight --config /root/kubeadm.yaml 2>&1 | tee /out/preflight.txt | grep -E 'ERROR|WARN'
ALLOWED="SystemVerification FileContent--proc-sys-net-bridge-bridge-nf-call-iptables Swap"
# kubeadm 1.20's preflight pulls every image, also those of the skipped addon phases (coredns,
# kube-proxy: no binary/image here). ImagePull is ignored only when those are the only ones missing.
if grep '\[ERROR ImagePull\]' /out/preflight.txt | grep -qvE '/(coredns|kube-proxy):'; then :; else ALLOWED="$ALLOWED ImagePull"; fi
ign=""
for e in $(grep -o '\[ERROR [^]]*\]' /out/preflight.txt | sed 's/\[ERROR \(.*\)\]/\1/' | sort -u); do
  if [[ " $ALLOWED " == *" $e "* ]]; then ign="${ign:+$ign,}$e"; else echo "NOT IGNORED (not on the allow-list): $e"; fi
done
echo "ignore-preflight-errors=${ign:-<none>}"

step "F. kubeadm init (real)"
ti=$SECONDS
( while sleep 15; do echo "--- monitor +$((SECONDS - ti))s kubelet=$(systemctl is-active kubelet)"; docker ps --format '{{.Names}} {{.Status}}' | grep -v POD_ ; done ) > /out/monitor.log 2>&1 &
MON=$!
timeout 480 kubeadm init --config /root/kubeadm.yaml ${ign:+--ignore-preflight-errors=$ign} \
  --skip-phases=addon/coredns,addon/kube-proxy --v=1 > /out/kubeadm-init.log 2>&1
rc=$?
kill $MON 2>/dev/null
echo "kubeadm init rc=$rc in $((SECONDS - ti))s"
grep -v -i 'token\|discovery-token-ca-cert-hash' /out/kubeadm-init.log | tail -40
# the join command holds the token: keep it out of the artifact
sed -i -E 's/(--token|--discovery-token-ca-cert-hash) [^ ]+/\1 <masked>/g; s/[a-z0-9]{6}\.[a-z0-9]{16}/<token>/g' /out/kubeadm-init.log

step "G. state"
export KUBECONFIG=/etc/kubernetes/admin.conf
for i in $(seq 1 24); do
  kubectl get nodes --no-headers 2>/dev/null | grep -qw Ready && break; sleep 5
done
kubectl get nodes -o wide 2>&1 | tee /out/nodes.txt
kubectl get pods -A -o wide 2>&1 | tee /out/pods.txt
kubectl get --raw='/readyz?verbose' 2>&1 | tail -5
kubectl get cs 2>&1
kubectl describe node "$NAME" 2>&1 | sed -n '/Conditions:/,/Addresses:/p'
ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt \
  --cert=/etc/kubernetes/pki/apiserver-etcd-client.crt --key=/etc/kubernetes/pki/apiserver-etcd-client.key \
  endpoint status -w table 2>&1
ls /var/lib/etcd/data 2>&1
docker ps -a --format 'table {{.Names}}\t{{.Image}}\t{{.Status}}' 2>&1 | tee /out/docker-ps.txt
for c in $(docker ps -a --format '{{.Names}}' | grep -v POD_); do
  echo "##### $c"; docker logs --tail 40 "$c" 2>&1
done > /out/docker-logs.txt
journalctl -u kubelet --no-pager > /out/kubelet-journal.txt 2>&1
journalctl -u docker --no-pager > /out/docker-journal.txt 2>&1
grep -E '^E|fail|error' /out/kubelet-journal.txt | grep -v 'kubelet.conf' | tail -25
cat /proc/self/cgroup | head -3
for k in vm/overcommit_memory kernel/panic kernel/panic_on_oops; do echo "inside-after $k=$(cat /proc/sys/$k)"; done
step "done in $((SECONDS - T0))s"
