#!/bin/bash
# Inside the test VM: turn the blank disk with serial $1 into a disk that boots this VM's own
# system with GRUB, on UEFI (removable path on a vfat ESP) and on BIOS (BIOS boot partition),
# with hostname $2. Used to prove the harness's bootDisk on both firmwares.
set -euo pipefail
disk=/dev/disk/by-id/virtio-$1
host=$2

sfdisk --quiet --wipe always "$disk" <<TABLE
label: gpt
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name=bios-boot
size=64MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root
TABLE
udevadm settle
esp=$(readlink -f "$disk-part2")
root=$(readlink -f "$disk-part3")
mkfs.vfat -F 32 -n ESP "$esp" >/dev/null
mkfs.ext4 -q -L root "$root"

target=$(mktemp -d)
mount "$root" "$target"
mkdir -p "$target/boot/efi"
mount "$esp" "$target/boot/efi"

# The VM's own root, without the big parts a login prompt does not need.
rsync -aHAX --one-file-system --exclude=/usr/lib/podman --exclude=/usr/bin/podman --exclude=/usr/bin/skopeo \
  --exclude=/usr/share/nodejs --exclude=/usr/lib/x86_64-linux-gnu/dri --exclude='/var/cache/*' / "$target/"

uuid=$(blkid -s UUID -o value "$root")
esp_uuid=$(blkid -s UUID -o value "$esp")
printf 'UUID=%s / ext4 rw,errors=remount-ro 0 1\nUUID=%s /boot/efi vfat umask=0077 0 2\n' "$uuid" "$esp_uuid" > "$target/etc/fstab"
echo "$host" > "$target/etc/hostname"

grub-install --target=x86_64-efi --efi-directory="$target/boot/efi" --boot-directory="$target/boot" --removable --no-nvram 2>&1 | grep -v '^Installing for' || true
grub-install --target=i386-pc --boot-directory="$target/boot" "$(readlink -f "$disk")" 2>&1 | grep -v '^Installing for' || true
test -f "$target/boot/efi/EFI/BOOT/BOOTX64.EFI"
test -f "$target/boot/grub/i386-pc/core.img"

kver=$(basename "$(ls "$target"/boot/vmlinuz-* | sort -V | tail -n 1)" | sed 's/^vmlinuz-//')
cat > "$target/boot/grub/grub.cfg" <<CFG
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
search --no-floppy --fs-uuid --set=root $uuid
linux /boot/vmlinuz-$kver root=UUID=$uuid ro console=ttyS0,115200
initrd /boot/initrd.img-$kver
boot
CFG

umount "$target/boot/efi" "$target"
sync
echo "bootable disk ready: kernel $kver, root $uuid"
