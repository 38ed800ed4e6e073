#!/bin/bash
# Host kernel state the spike must not change. usage: hostcheck.sh snapshot FILE | compare BEFORE AFTER
KEYS="fs/file-max fs/nr_open fs/inotify/max_user_watches fs/inotify/max_user_instances kernel/pid_max vm/max_map_count kernel/threads-max net/core/somaxconn net/ipv4/ip_local_port_range vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes net/netfilter/nf_conntrack_max kernel/keys/maxkeys kernel/keys/maxbytes net/bridge/bridge-nf-call-iptables net/ipv4/ip_forward"
case $1 in
  snapshot) for k in $KEYS; do printf '%s=%s\n' "$k" "$(tr '\t' ' ' < /proc/sys/$k)"; done > "$2"
            echo "swap=$(swapon --show --noheadings | wc -l)" >> "$2" ;;
  compare) diff "$2" "$3" && echo "HOST SYSCTLS UNCHANGED" ;;
esac
