#!/bin/bash
# Inside the test VM: what the host kernel cannot do. LUKS2 on one disk (passphrase on stdin),
# ext4 inside, mounted and written; a vfat ESP on another, mounted and written; all torn down.
set -euo pipefail
luks=/dev/disk/by-id/virtio-$1
espdisk=/dev/disk/by-id/virtio-$2
pass='correct horse battery staple'
mnt=$(mktemp -d)

printf '%s' "$pass" | cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file - "$luks"
cryptsetup isLuks --type luks2 "$luks" && echo "luks2 header: yes"
printf '%s' "$pass" | cryptsetup open --key-file - "$luks" particle-test
mkfs.ext4 -q /dev/mapper/particle-test
mount /dev/mapper/particle-test "$mnt"
echo hello > "$mnt/proof"
echo "ext4 in luks: $(cat "$mnt/proof") ($(findmnt -no FSTYPE "$mnt"))"
umount "$mnt"
cryptsetup close particle-test
test ! -e /dev/mapper/particle-test && echo "luks closed"

sfdisk --quiet --wipe always "$espdisk" <<TABLE
label: gpt
type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
TABLE
udevadm settle
mkfs.vfat -F 32 -n ESP "$espdisk-part1" >/dev/null
mount "$espdisk-part1" "$mnt"
mkdir -p "$mnt/EFI/BOOT" && echo boot > "$mnt/EFI/BOOT/proof"
echo "vfat esp: $(findmnt -no FSTYPE "$mnt") $(cat "$mnt/EFI/BOOT/proof")"
umount "$mnt"
echo "mounts left: $(findmnt -rno TARGET | grep -c "^$mnt" || true)"
