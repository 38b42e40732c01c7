#!/usr/bin/env bash
# The rootfs stage's last step (mmdebstrap --customize-hook): what every live system needs and no
# installer change touches. Runs on the build machine with the new root as $1; commands meant for
# the image go through chroot. Its hash is part of the rootfs cache key.
set -euo pipefail
root=${1:?usage: stage-rootfs.sh ROOT}
in_root() { chroot "$root" "$@"; }

echo particle-live > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tparticle-live\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"

# The unprivileged live user: uid 1000, the console's session (video, render, input via logind),
# the journal (the unattended install's log on tty1), and sudo for whoever opens a terminal. The
# password is "live", as on Debian's own live images; the kiosk itself never asks for it.
in_root useradd --create-home --uid 1000 --shell /bin/bash --groups sudo,video,render,input,systemd-journal live
echo 'live:live' | in_root chpasswd
printf 'live ALL=(ALL) NOPASSWD: ALL\n' > "$root/etc/sudoers.d/live"
chmod 0440 "$root/etc/sudoers.d/live"
# root has no password: no login as root, sudo from the live user instead.
in_root passwd --lock root >/dev/null

# Timers that only cost time and memory on a live medium.
for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer man-db.timer \
  e2scrub_reap.service systemd-timesyncd.service; do
  in_root systemctl mask "$unit" >/dev/null 2>&1 || true
done

# The journal in memory only; a live system has no disk of its own.
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=64M\n' > "$root/etc/systemd/journald.conf.d/live.conf"

# NetworkManager manages every wired device (DHCP), including in the live session.
mkdir -p "$root/etc/NetworkManager/conf.d"
printf '[main]\nno-auto-default=\n[ifupdown]\nmanaged=true\n' > "$root/etc/NetworkManager/conf.d/particle-live.conf"

# No apt lists or downloaded packages on the medium.
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*_Packages "$root/var/lib/apt/lists/"*_Release
# machine-id is made at each boot (systemd does so when the file is empty).
: > "$root/etc/machine-id"
