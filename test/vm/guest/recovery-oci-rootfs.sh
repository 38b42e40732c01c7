#!/bin/bash
# The security level's oci-rootfs recovery tests, run inside the VM: the boot-loader step mounts the
# ESP, and this guest's kernel has vfat where a host's may not. The project is seen through an
# overlay (vitest writes a cache beside it), the OCI test image comes from the host's cache (share
# "oci", the folder of its recipe hash), vitest's JSON report goes to share "out", and the disks and
# scratch files live on the scratch disk.
set -euo pipefail
hash="$1"
mkdir -p /tmp/ov && mount -t tmpfs tmpfs /tmp/ov
mkdir -p /tmp/ov/upper /tmp/ov/work /tmp/project
mount -t overlay overlay -o lowerdir=/project,upperdir=/tmp/ov/upper,workdir=/tmp/ov/work /tmp/project
image="/tmp/cache/particle-installer/oci-image/$hash"
mkdir -p "$image" /out /scratch
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=1048576 oci "$image"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=1048576 out /out
scratch=$(realpath /dev/disk/by-id/virtio-scratch)
mkfs.ext4 -q -F "$scratch"
mount "$scratch" /scratch
modprobe loop 2>/dev/null || true
cd /tmp/project
echo "guest: kernel $(uname -r); vfat: $(grep -c vfat /proc/filesystems || modprobe -n -v vfat)"
export HOME=/tmp XDG_CACHE_HOME=/tmp/cache TMPDIR=/scratch
exec node node_modules/vitest/vitest.mjs run --project security --reporter=default --reporter=json --outputFile.json=/out/report.json test/security/recovery-oci-rootfs.test.ts
