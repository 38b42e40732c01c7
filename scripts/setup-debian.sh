#!/usr/bin/env bash
# Installs the Debian packages the installer and its tests use. Run as root (or through sudo).
# Node.js: the project targets Node 20.19 or newer (Debian trixie's nodejs); an existing newer
# Node on PATH is kept.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  exec sudo "$0" "$@"
fi

packages=(
  # disks: probing, partitioning, filesystems, loop devices
  util-linux fdisk e2fsprogs xfsprogs btrfs-progs dosfstools cryptsetup-bin
  # udevadm: the engine waits for new partitions with `udevadm settle` (a missing udev daemon is fine)
  udev
  # ss: the engine's Unix socket learns its peer's uid from the kernel's socket table
  iproute2
  # the oci-rootfs deployer: GNU tar extracts the layers, zstd decompresses zstd layers
  tar zstd
  # SELinux labels for what the installer writes into an SELinux image (setfiles); getfattr reads them in
  # tests, and the live ISO build removes overlayfs's random uuid from its installer layer with setfattr
  policycoreutils attr
  # ostree: the engine asks it where bootc put the deployment; the tests' bootc stand-in deploys with it
  ostree
  # the VM test level: QEMU with OVMF (UEFI) and SeaBIOS, the guest image built with mmdebstrap
  qemu-system-x86 qemu-utils ovmf mmdebstrap debian-archive-keyring
  # the live ISO build: squashfs, a hybrid BIOS/UEFI ISO made by grub-mkrescue (xorriso, mtools)
  squashfs-tools xorriso mtools grub-common grub-pc-bin grub-efi-amd64-bin
  # the wizard's lists: keyboard layouts (XKB rules) and time zones (zone.tab, iso3166.tab);
  # skopeo reads a registry image's digest and size without pulling it (inspectImage)
  xkb-data tzdata skopeo
  # the signature check's tests sign the test image with a throwaway GPG key
  gpg
  # end-to-end tests and the browser shell; fonts for every UI language (Arabic, CJK)
  chromium fonts-noto-core fonts-noto-cjk
  # the kiosk QA reads the live ISO's own screen from its screendumps
  tesseract-ocr tesseract-ocr-eng
  # lsinitramfs: the test image's initrd is checked for what a VM boot needs (the -core package: the
  # tools only, no hook that rebuilds this machine's own initramfs)
  initramfs-tools-core
)

need_node=1
if command -v node >/dev/null 2>&1; then
  if node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
    need_node=0
  fi
fi
[ "$need_node" -eq 1 ] && packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if(!(a>20||(a===20&&b>=19))){console.error("Node "+process.versions.node+" is too old: 20.19 or newer is needed (Debian trixie has it)."); process.exit(1)}'
