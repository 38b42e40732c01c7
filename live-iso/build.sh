#!/usr/bin/env bash
# Builds the Particle Installer live ISO: a Debian system made with mmdebstrap, squashed, booted by
# live-boot from a hybrid (BIOS and UEFI, optical and USB) ISO whose kiosk session opens the installer.
#
#   live-iso/build.sh [--suite SUITE] [--mirror URL] [--shell browser|electron]
#                     [--image TRANSPORT:PATH [--deployer bootc|oci-rootfs] [--target-imgref REF]]
#                     [--hooks DIR]...
#                     [--out DIR] [--cache DIR] [--name NAME] [--no-cache]
#
# Run as root (mmdebstrap in root mode, chroot, mounts). See live-iso/README.md for the stages, the
# hooks and the kernel arguments the live system understands.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)

# Bump when something outside the package lists and hook files changes what the rootfs stage makes.
ROOTFS_RECIPE=3

suite=trixie
mirror=""
shell=browser
image=""
deployer=""
target_imgref=""
out="$HERE/out"
cache="${PARTICLE_LIVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/particle-installer/live}"
name=particle-live
use_cache=1
hooks=()
electron_app="${PARTICLE_ELECTRON_APP:-$REPO/dist/linux-unpacked}"

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}
die() {
  echo "build.sh: $*" >&2
  exit 1
}
say() { echo "[live-iso] $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --suite) suite=${2:?--suite needs a value}; shift 2 ;;
    --mirror) mirror=${2:?--mirror needs a value}; shift 2 ;;
    --shell) shell=${2:?--shell needs a value}; shift 2 ;;
    --image) image=${2:?--image needs a value}; shift 2 ;;
    --deployer) deployer=${2:?--deployer needs a value}; shift 2 ;;
    --target-imgref) target_imgref=${2:?--target-imgref needs a registry image reference}; shift 2 ;;
    --hooks) hooks+=("$(cd "${2:?--hooks needs a directory}" && pwd)"); shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --cache) cache=${2:?--cache needs a directory}; shift 2 ;;
    --name) name=${2:?--name needs a value}; shift 2 ;;
    --no-cache) use_cache=0; shift ;;
    -h|--help) usage 0 ;;
    *) echo "build.sh: unknown option $1" >&2; usage 2 ;;
  esac
done

case "$shell" in browser|electron) ;; *) die "--shell must be browser or electron (not \"$shell\")" ;; esac
case "$deployer" in ""|bootc|oci-rootfs) ;; *) die "--deployer must be bootc or oci-rootfs (not \"$deployer\")" ;; esac
[ -z "$deployer" ] || [ -n "$image" ] || die "--deployer only means something with --image"
[[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "--name may hold letters, digits, '.', '_' and '-' only"
[ "$(id -u)" -eq 0 ] || die "run as root (mmdebstrap, chroot and mounts need it), e.g. sudo $0 $*"
for tool in mmdebstrap mksquashfs grub-mkrescue xorriso mformat sha256sum setfattr; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/setup-debian.sh installs the build's tools)"
done
[ -d /usr/lib/grub/i386-pc ] || die "GRUB's BIOS modules are missing (apt-get install grub-pc-bin)"
[ -d /usr/lib/grub/x86_64-efi ] || die "GRUB's UEFI modules are missing (apt-get install grub-efi-amd64-bin)"

# The embedded image: TRANSPORT:PATH on the build machine; it is copied to /particle/image on the
# medium, where the live system finds it as /run/live/medium/particle/image.
image_transport=""
image_source=""
if [ -n "$image" ]; then
  image_transport=${image%%:*}
  image_source=${image#*:}
  case "$image_transport" in
    oci) [ -f "$image_source/index.json" ] || die "--image oci:$image_source is not an OCI layout (no index.json)" ;;
    oci-archive|docker-archive) [ -f "$image_source" ] || die "--image $image_transport:$image_source: no such file" ;;
    *) die "--image must be oci:DIR, oci-archive:FILE or docker-archive:FILE (an image for offline installs), not \"$image\"" ;;
  esac
  [ -n "$deployer" ] || deployer=oci-rootfs
  # bootc from a file runs on the live system (its host form), and reads ostree's prepare-root.conf,
  # the SELinux policy, its install config and bound images from / and needs bootupd here
  # (crates/lib/src/install.rs:1553, 1769-1770, 1885-1887 of bootc-dev/bootc at 534c76ea): none of
  # that is on this ISO, and the engine's pre-flight would refuse every install.
  # The live system has no bootc: the engine pulls the image with podman into storage on the target and
  # runs bootc in a container of it, by the image's id, which it reads from an OCI layout when it plans;
  # an archive would have to be unpacked first.
  if [ "$deployer" = bootc ] && [ "$image_transport" != oci ]; then
    die "--deployer bootc needs an OCI layout (--image oci:DIR): bootc runs from a container of the image, whose id the engine reads from the layout; convert with skopeo copy $image_transport:$image_source oci:DIR"
  fi
  if [ "$deployer" = bootc ] && [ -z "$target_imgref" ]; then
    say "warning: no --target-imgref: the installed systems will not find updates (bootc would record the image's path on this medium as where to update from)"
  fi
fi
if [ -n "$target_imgref" ]; then
  [ "$deployer" = bootc ] || die "--target-imgref names the registry image a bootc system updates from: it needs --image and --deployer bootc"
  # The answer file's grammar for image.targetImage: printable ASCII, no spaces, not an option.
  [[ "$target_imgref" =~ ^[!-~]+$ ]] && [[ "$target_imgref" != -* ]] || die "--target-imgref must be a registry image reference such as quay.io/example/os:42 (not \"$target_imgref\")"
fi

# The installer: the engine bundle and the renderer (npm run build), and for --shell electron the
# packaged app.
if [ ! -f "$REPO/out/engine/cli.mjs" ] || [ ! -f "$REPO/out/engine/machine-si.mjs" ] || [ ! -f "$REPO/out/renderer/index.html" ]; then
  die "the installer is not built: run npm run build in $REPO first"
fi
if [ "$shell" = electron ] && [ ! -x "$electron_app/particle-installer" ]; then
  die "--shell electron needs a packaged Electron app in $electron_app (or PARTICLE_ELECTRON_APP=DIR); build with --shell browser otherwise"
fi

# Reproducible: every timestamp is clamped to SOURCE_DATE_EPOCH, by default the last commit's time.
# The rootfs stage gets the time of the last commit that changed its own recipe instead (unless
# SOURCE_DATE_EPOCH is given), so a commit to the installer does not invalidate the rootfs cache.
commit_time() { git -C "$REPO" log -1 --format=%ct "$@" 2>/dev/null || true; }
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
  rootfs_epoch=$SOURCE_DATE_EPOCH
else
  SOURCE_DATE_EPOCH=$(commit_time)
  rootfs_epoch=$(commit_time -- live-iso/packages.list live-iso/stage-rootfs.sh)
  [ -n "$SOURCE_DATE_EPOCH" ] || SOURCE_DATE_EPOCH=$(date +%s)
  [ -n "$rootfs_epoch" ] || rootfs_epoch=$SOURCE_DATE_EPOCH
fi
export SOURCE_DATE_EPOCH
say "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH ($(date -u -d "@$SOURCE_DATE_EPOCH" +%FT%TZ))"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
t_start=$(now)

packages() {
  # Package names from a list file: comments and blank lines dropped.
  sed -e 's/#.*//' -e 's/[[:space:]]//g' "$1" | grep -v '^$' || true
}
pkgs=$(packages "$HERE/packages.list")
for h in "${hooks[@]}"; do
  [ -f "$h/packages" ] && pkgs+=$'\n'$(packages "$h/packages")
done
pkgs=$(echo "$pkgs" | sort -u | paste -sd, -)

# --- rootfs stage (cached) -------------------------------------------------------------------------
# Keyed by everything that decides its content: suite, mirror, packages, this stage's hook files and
# SOURCE_DATE_EPOCH. A change to the installer or the kiosk files does not invalidate it.
rootfs_inputs() {
  echo "recipe $ROOTFS_RECIPE suite $suite mirror $mirror epoch $rootfs_epoch"
  echo "packages $pkgs"
  sha256sum < "$HERE/stage-rootfs.sh"  # content only: the same recipe in another checkout shares the cache
  for h in "${hooks[@]}"; do
    [ -d "$h/pre-install" ] && (cd "$h" && find pre-install -type f -print0 | sort -z | xargs -0r sha256sum)
    [ -f "$h/packages" ] && sha256sum < "$h/packages"
  done
  true
}
rootfs_key=$(rootfs_inputs | sha256sum | cut -c1-16)
rootfs_dir="$cache/rootfs-$rootfs_key"
rootfs_cache=hit
t_rootfs=$(now)
if [ "$use_cache" -eq 0 ] || [ ! -f "$rootfs_dir/.complete" ]; then
  rootfs_cache=miss
  mkdir -p "$cache"
  # Older rootfs builds are dropped: one cached tree per machine is plenty (each is about 2 GB).
  find "$cache" -maxdepth 1 -name 'rootfs-*' ! -name "rootfs-$rootfs_key" -exec rm -rf {} +
  rm -rf "$rootfs_dir" "$rootfs_dir.tmp"
  say "rootfs: mmdebstrap $suite with $(echo "$pkgs" | tr ',' '\n' | wc -l) packages (cache miss, key $rootfs_key)"
  argv=(mmdebstrap --mode=root --format=directory --variant=minbase
    --include="$pkgs"
    --aptopt='APT::Install-Recommends "false"'
    --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/info/*'
    # Noto: Sans, Sans Arabic, Naskh Arabic and Sans Mono only (the UI's fonts); the other scripts'
    # families are 150 MB that no UI language needs. CJK: the Sans collection only.
    --dpkgopt='path-exclude=/usr/share/fonts/truetype/noto/*'
    --dpkgopt='path-include=/usr/share/fonts/truetype/noto/NotoSans-*'
    --dpkgopt='path-include=/usr/share/fonts/truetype/noto/NotoSansArabic-*'
    --dpkgopt='path-include=/usr/share/fonts/truetype/noto/NotoNaskhArabic-*'
    --dpkgopt='path-include=/usr/share/fonts/truetype/noto/NotoSansMono-*'
    --dpkgopt='path-exclude=/usr/share/fonts/opentype/noto/NotoSerifCJK*'
    --dpkgopt='path-exclude=/usr/share/fonts/opentype/noto/NotoSansCJK-[!RB]*'
    # Chromium's UI translations beyond the installer's languages.
    --dpkgopt='path-exclude=/usr/lib/chromium/locales/*'
    --dpkgopt='path-include=/usr/lib/chromium/locales/en-US.pak'
    --dpkgopt='path-include=/usr/lib/chromium/locales/de.pak'
    --dpkgopt='path-include=/usr/lib/chromium/locales/fr.pak'
    --dpkgopt='path-include=/usr/lib/chromium/locales/es.pak'
    --dpkgopt='path-include=/usr/lib/chromium/locales/pt-BR.pak'
    --dpkgopt='path-include=/usr/lib/chromium/locales/ar.pak'
    --dpkgopt='path-include=/usr/lib/chromium/locales/zh-CN.pak'
    --dpkgopt='path-include=/usr/lib/chromium/locales/ja.pak'
  )
  for h in "${hooks[@]}"; do
    [ -d "$h/pre-install" ] && argv+=(--setup-hook="sync-in '$h/pre-install' /")
  done
  argv+=(--customize-hook="'$HERE/stage-rootfs.sh' \"\$1\"")
  argv+=("$suite" "$rootfs_dir.tmp")
  [ -n "$mirror" ] && argv+=("$mirror")
  SOURCE_DATE_EPOCH=$rootfs_epoch "${argv[@]}"
  touch "$rootfs_dir.tmp/.complete"
  mv "$rootfs_dir.tmp" "$rootfs_dir"
else
  say "rootfs: cached ($rootfs_key)"
fi
rootfs_seconds=$(since "$t_rootfs")

# --- installer stage: an overlay on the cached rootfs, so the cache stays pristine ---------------
work=$(mktemp -d "${TMPDIR:-/tmp}/particle-live.XXXXXX")
merged="$work/merged"
mounted=()
cleanup() {
  local rc=$?
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
  rm -rf "$work"
  [ "$rc" -eq 0 ] || echo "build.sh: failed (exit $rc); nothing is left mounted, the work folder is removed" >&2
}
trap cleanup EXIT
mkdir -p "$work/upper" "$work/overlay-work" "$merged"
# layered=1: the installer's files are in $work/upper alone, and go to the medium as a second image.
layered=0
# No metadata-only copy-ups and no directory redirects: the upper directory must hold whole files, as
# the live system mounts its stack without metacopy.
if mount -t overlay overlay -o "lowerdir=$rootfs_dir,upperdir=$work/upper,workdir=$work/overlay-work,metacopy=off,redirect_dir=off" "$merged" 2>/dev/null; then
  mounted+=("$merged")
  layered=1
else
  say "overlayfs is not available: copying the rootfs instead"
  cp -a "$rootfs_dir/." "$merged/"
fi
rm -f "$merged/.complete"

t_installer=$(now)
inst="$merged/usr/lib/particle-installer"
mkdir -p "$inst/out/engine" "$inst/out/renderer"
# The engine, and the machine-facts module it loads on first use (scripts/build-engine.mjs).
cp -a "$REPO/out/engine/cli.mjs" "$REPO/out/engine/machine-si.mjs" "$inst/out/engine/"
cp -a "$REPO/out/renderer/." "$inst/out/renderer/"
cp -a "$REPO/resources/branding" "$inst/"
install -D -m 0755 "$REPO/resources/particle-installer-engine" "$merged/usr/libexec/particle-installer/engine"
install -D -m 0644 "$REPO/resources/polkit/org.particleinstaller.engine.policy" "$merged/usr/share/polkit-1/actions/org.particleinstaller.engine.policy"
printf '#!/bin/sh\nexec /usr/bin/node /usr/lib/particle-installer/out/engine/cli.mjs "$@"\n' > "$merged/usr/bin/particle-installer"
chmod 0755 "$merged/usr/bin/particle-installer"
if [ "$shell" = electron ]; then
  mkdir -p "$merged/opt/particle-installer"
  cp -a "$electron_app/." "$merged/opt/particle-installer/"
fi
# The kiosk session, the engine service and the unattended service.
cp -a "$HERE/rootfs/." "$merged/"
mkdir -p "$merged/etc/particle-installer"
{
  echo "# Written by live-iso/build.sh; read by the live session's scripts (after the medium's particle/live.conf)."
  echo "PARTICLE_SHELL=$shell"
} > "$merged/etc/particle-installer/live.conf"
# /etc and /var are up to date with /usr (systemd's ConditionNeedsUpdate): no ldconfig, hwdb or
# journal catalog rebuild at every boot of the live system.
for d in etc var; do
  printf 'TIMESTAMP_NSEC=%s000000000\n' "$SOURCE_DATE_EPOCH" > "$merged/$d/.updated"
done
# Distribution hooks: files copied in after the install, then scripts run inside the image.
for h in "${hooks[@]}"; do
  [ -d "$h/post-install" ] && cp -a "$h/post-install/." "$merged/"
done
for h in "${hooks[@]}"; do
  if [ -d "$h/customize.d" ]; then
    for s in "$h"/customize.d/*; do
      [ -f "$s" ] || continue
      say "hook: $(basename "$s") (inside the image)"
      install -m 0755 "$s" "$merged/run/particle-hook"
      mount -t proc proc "$merged/proc" && mounted+=("$merged/proc")
      chroot "$merged" /run/particle-hook
      umount "$merged/proc" && unset 'mounted[${#mounted[@]}-1]'
      rm -f "$merged/run/particle-hook"
    done
  fi
done
installer_seconds=$(since "$t_installer")

# --- medium: kernel, initramfs, squashfs, the image, GRUB ----------------------------------------
iso_tree="$work/iso"
mkdir -p "$iso_tree/live" "$iso_tree/boot/grub"
kernel=$(find "$merged/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n1)
initrd=$(find "$merged/boot" -maxdepth 1 -name 'initrd.img-*' | sort -V | tail -n1)
[ -n "$kernel" ] && [ -n "$initrd" ] || die "no kernel or initramfs in the rootfs's /boot"
cp "$kernel" "$iso_tree/live/vmlinuz"
cp "$initrd" "$iso_tree/live/initrd.img"

# The package manifest, next to the ISO.
mkdir -p "$out"
chroot "$merged" dpkg-query -W -f='${Package}\t${Version}\t${Architecture}\n' | sort > "$out/$name.packages"

t_squash=$(now)
# /dev/console and /dev/null are in the squashfs, as debootstrap makes them (mmdebstrap leaves /dev
# empty): the initramfs hands the console to init with `exec run-init ... <ROOT/dev/console`, and when
# udev's init-bottom script has not moved /dev onto the root (it runs under `sh -e`, so one failing
# udevadm call skips the move), a missing node made the initramfs shell exit and the kernel panic
# ("Attempted to kill init! exitcode=0x00000100", seen once in a loaded QA run). With the nodes there,
# systemd starts and mounts its own devtmpfs.
squash_excludes=('boot/*' 'proc/*' 'sys/*' 'dev/*' 'run/*' 'tmp/*' 'var/cache/apt/*' 'var/lib/apt/lists/*' '.complete')
squash_opts=(-noappend -comp zstd -Xcompression-level 15 -b 1M -no-progress -quiet)
dev_nodes=(-p 'dev/console c 600 0 0 5 1' -p 'dev/null c 666 0 0 1 3')
# live/filesystem.squashfs through the cache: KEY, then the command that makes it on a miss.
squash_cache=miss
base_squashfs() {
  local key=$1 cached="$cache/squashfs-$1"
  shift
  if [ "$use_cache" -eq 1 ] && [ -f "$cached" ]; then
    squash_cache=hit
    say "squashfs: cached ($key)"
    cp "$cached" "$iso_tree/live/filesystem.squashfs"
    return
  fi
  "$@"
  if [ "$use_cache" -eq 1 ]; then
    mkdir -p "$cache"
    # One squashfs per machine, like the rootfs: older ones are dropped.
    find "$cache" -maxdepth 1 -name 'squashfs-*' ! -name "squashfs-$key" -delete
    cp "$iso_tree/live/filesystem.squashfs" "$cached.tmp" && mv "$cached.tmp" "$cached"
  fi
}
if [ "$layered" -eq 1 ]; then
  # Two images, stacked by live-boot in the order live/filesystem.module lists them (the last one on
  # top, live-boot's 9990-overlay.sh): the cached rootfs as it is, and the installer stage's overlay
  # upper directory (its whiteouts are character devices 0/0, which overlayfs honours in any lower
  # layer above the bottom one). The rootfs image changes only with the rootfs, so a commit to the
  # installer squashes the few MB it changed instead of the whole system (about 95 s on two cores).
  squash_key=$( {
    echo "rootfs $rootfs_key built $(stat -c %Y "$rootfs_dir/.complete"), times as built"
    printf '%s\n' "${squash_opts[@]}" "${dev_nodes[@]}" "${squash_excludes[@]}"
  } | sha256sum | cut -c1-16)
  # The rootfs's times as the rootfs stage made them: caches made inside it record the times of
  # what they index (fontconfig's the font directories'), and clamping those times to an older
  # SOURCE_DATE_EPOCH made every cache stale, so Chromium rescanned the fonts at each boot of the
  # live system and the kiosk's screen stayed blank for 27 s. SOURCE_DATE_EPOCH is the time the
  # rootfs stage ended, which clamps nothing in the tree and dates the image and its two device nodes
  # (without it they got the current time, and two builds of one rootfs differed).
  rootfs_done=$(stat -c %Y "$rootfs_dir/.complete")
  base_squashfs "$squash_key" env SOURCE_DATE_EPOCH="$rootfs_done" mksquashfs "$rootfs_dir" "$iso_tree/live/filesystem.squashfs" \
    "${squash_opts[@]}" "${dev_nodes[@]}" -wildcards -e "${squash_excludes[@]}"
  # mksquashfs clamps the installer's times to SOURCE_DATE_EPOCH (it reads it from the environment).
  # The upper directory keeps overlayfs's own xattrs: opaque directories must stay opaque in the live
  # system's stack; origin, impure and nlink are read only on an upper layer (fs/overlayfs/namei.c
  # looks them up only where there is an upper dentry), and copy-up never copies them.
  # Except the random trusted.overlay.uuid newer kernels give the upper directory at mount time:
  # it made two builds of one commit differ.
  setfattr -x trusted.overlay.uuid "$work/upper" 2>/dev/null || true
  mksquashfs "$work/upper" "$iso_tree/live/installer.squashfs" "${squash_opts[@]}" -wildcards -e "${squash_excludes[@]}"
  printf 'filesystem.squashfs\ninstaller.squashfs\n' > "$iso_tree/live/filesystem.module"
else
  # One image of the whole tree (the rootfs was copied, not overlaid), cached by content: the key
  # hashes this script and every byte, name, mode, owner and (clamped) time of the tree that goes in.
  find "$merged" -xdev -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0r touch -h -d "@$SOURCE_DATE_EPOCH"
  squash_key=$( {
    sha256sum < "$0"
    tar -C "$merged" --sort=name --numeric-owner --one-file-system --anchored \
      "${squash_excludes[@]/#/--exclude=./}" -cf - .
  } | sha256sum | cut -c1-16)
  base_squashfs "$squash_key" mksquashfs "$merged" "$iso_tree/live/filesystem.squashfs" "${squash_opts[@]}" "${dev_nodes[@]}" \
    -wildcards -e "${squash_excludes[@]}"
fi
for node in 'dev/console 5,  1' 'dev/null 1,  3'; do
  unsquashfs -ll "$iso_tree/live/filesystem.squashfs" "${node%% *}" | grep -q "^c.* ${node#* } .* squashfs-root/${node%% *}\$" ||
    die "the squashfs has no character device ${node%% *} (${node#* }); mksquashfs -p did not make it"
done
squash_seconds=$(since "$t_squash")

# The embedded image and how to install it live on the medium, beside each other, not in the
# squashfs: two ISOs that differ only in their image share one squashfs (and its cache entry).
if [ -n "$image" ]; then
  mkdir -p "$iso_tree/particle"
  case "$image_transport" in
    oci) cp -a "$image_source" "$iso_tree/particle/image" ;;
    *) cp "$image_source" "$iso_tree/particle/image.tar" ;;
  esac
  {
    echo "# Written by live-iso/build.sh: the image this medium carries; read by the live session's scripts."
    case "$image_transport" in
      oci) echo "PARTICLE_IMAGE=oci:/run/live/medium/particle/image" ;;
      *) echo "PARTICLE_IMAGE=$image_transport:/run/live/medium/particle/image.tar" ;;
    esac
    echo "PARTICLE_DEPLOYER=$deployer"
    [ -z "$target_imgref" ] || echo "PARTICLE_TARGET_IMGREF=$target_imgref"
  } > "$iso_tree/particle/live.conf"
fi

product=$(sed -n 's/.*"productName": *"\([^"]*\)".*/\1/p' "$REPO/resources/branding/particleos/branding.json" | head -n1)
[ -n "$product" ] || product=Particle
sed -e "s/@PRODUCT@/$product/g" "$HERE/grub.cfg" > "$iso_tree/boot/grub/grub.cfg"
find "$iso_tree" -print0 | xargs -0r touch -h -d "@$SOURCE_DATE_EPOCH"

t_iso=$(now)
iso="$out/$name.iso"
rm -f "$iso.tmp"
# grub-mkrescue makes the hybrid: El Torito for BIOS (i386-pc) and UEFI (an ESP image with
# x86_64-efi), plus an MBR/GPT so the same file boots when written to a USB stick.
# Reproducible: every date on the ISO, its UUID and the GPT's disk GUID come from SOURCE_DATE_EPOCH.
# GRUB's modules are not compressed: --compress=xz made them 10.7 MB smaller and took 10.2 s of 10.5
# on two idle cores (gz: 6.4 s), and three times that beside two guests.
stamp=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d%H%M%S00)
grub-mkrescue --output="$iso.tmp" "$iso_tree" -- -volid PARTICLE_LIVE \
  -volume_date all_file_dates "=$SOURCE_DATE_EPOCH" -volume_date uuid "$stamp" \
  -volume_date c "=$SOURCE_DATE_EPOCH" -volume_date m "=$SOURCE_DATE_EPOCH" \
  -boot_image any gpt_disk_guid=volume_date_uuid >"$work/xorriso.log" 2>&1 ||
  { cat "$work/xorriso.log" >&2; die "grub-mkrescue failed (its log is above)"; }
# The one random thing left: the FAT volume serial of the UEFI boot image grub-mkrescue formats.
# Set it from SOURCE_DATE_EPOCH, where the boot sector has one (extended boot signature 0x29).
efi_lba=$(xorriso -indev "$iso.tmp" -report_el_torito plain 2>/dev/null | awk '$1 == "El" && $3 == "boot" && $7 == "UEFI" { print $NF }')
if [ -n "$efi_lba" ] && [ "$(od -An -tx1 -j $((efi_lba * 2048 + 0x26)) -N1 "$iso.tmp" | tr -d ' ')" = 29 ]; then
  printf "$(printf '%08x' "$((SOURCE_DATE_EPOCH & 0xffffffff))" | sed 's/\(..\)\(..\)\(..\)\(..\)/\\x\4\\x\3\\x\2\\x\1/')" |
    dd of="$iso.tmp" bs=1 seek=$((efi_lba * 2048 + 0x27)) conv=notrunc status=none
fi
mv "$iso.tmp" "$iso"
iso_seconds=$(since "$t_iso")

iso_bytes=$(stat -c %s "$iso")
squash_bytes=$(stat -c %s "$iso_tree"/live/*.squashfs | awk '{ n += $1 } END { print n }')
total=$(since "$t_start")
cat > "$out/$name.build.json" <<JSON
{
  "iso": "$name.iso",
  "isoBytes": $iso_bytes,
  "squashfsBytes": $squash_bytes,
  "suite": "$suite",
  "shell": "$shell",
  "image": "${image:+$image_transport}",
  "deployer": "$deployer",
  "targetImgref": "$target_imgref",
  "sourceDateEpoch": $SOURCE_DATE_EPOCH,
  "rootfsCache": "$rootfs_cache",
  "squashfsCache": "$squash_cache",
  "rootfsKey": "$rootfs_key",
  "packages": $(wc -l < "$out/$name.packages"),
  "seconds": { "rootfs": $rootfs_seconds, "installer": $installer_seconds, "squashfs": $squash_seconds, "iso": $iso_seconds, "total": $total }
}
JSON
(cd "$out" && sha256sum "$name.iso" > "$name.iso.sha256")
say "ISO: $iso ($((iso_bytes / 1048576)) MiB; squashfs $((squash_bytes / 1048576)) MiB; $(wc -l < "$out/$name.packages") packages)"
say "time: rootfs ${rootfs_seconds}s ($rootfs_cache), installer ${installer_seconds}s, squashfs ${squash_seconds}s ($squash_cache), iso ${iso_seconds}s, total ${total}s"
