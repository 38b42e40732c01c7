# Shared by the live session's scripts (sourced, not run).

PARTICLE_RUN=/run/particle-installer
PARTICLE_CLI=/usr/lib/particle-installer/out/engine/cli.mjs
PARTICLE_LIVE_UID=1000
PARTICLE_REMOTE_PORT=8470

# What the build wrote: the medium's particle/live.conf names its embedded image
# (PARTICLE_IMAGE, PARTICLE_DEPLOYER, and PARTICLE_TARGET_IMGREF, where a bootc system updates
# from); /etc/particle-installer/live.conf in the live root names the shell and, from a hook, may
# override any of them.
PARTICLE_SHELL=browser
PARTICLE_IMAGE=
PARTICLE_DEPLOYER=
PARTICLE_TARGET_IMGREF=
PARTICLE_MEDIUM=${PARTICLE_MEDIUM:-/run/live/medium}
[ -r "$PARTICLE_MEDIUM/particle/live.conf" ] && . "$PARTICLE_MEDIUM/particle/live.conf"
[ -r "${PARTICLE_ETC:-/etc/particle-installer}/live.conf" ] && . "${PARTICLE_ETC:-/etc/particle-installer}/live.conf"

# karg NAME: prints the value of NAME=VALUE on the kernel command line (empty for a bare NAME) and
# succeeds; fails when NAME is absent.
karg() {
  local word
  for word in $(cat "${PARTICLE_CMDLINE:-/proc/cmdline}"); do
    case "$word" in
      "$1") return 0 ;;
      "$1="*) printf '%s\n' "${word#*=}"; return 0 ;;
    esac
  done
  return 1
}

# say MESSAGE: one line on every console the kernel was given (the screen and a serial port; QA reads
# the serial one) and in the journal.
say() {
  local c consoles
  consoles=$(cat /sys/class/tty/console/active 2>/dev/null || echo console)
  for c in $consoles; do
    printf 'particle-live: %s\n' "$*" >"/dev/$c" 2>/dev/null || true
  done
  logger -t particle-live -- "$*" 2>/dev/null || true
}

# engine_answers: whether the engine takes connections on the port of its address (the URL in
# $PARTICLE_RUN/url, written before it listens). bash's /dev/tcp: no process to start.
engine_answers() {
  local url port
  url=$(cat "$PARTICLE_RUN/url" 2>/dev/null) || return 1
  port=${url##*:}
  port=${port%%/*}
  [[ "$port" =~ ^[0-9]{1,5}$ ]] || return 1
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

# The embedded image, when the medium carries one: its TRANSPORT:PATH, else nothing.
embedded_image() {
  [ -n "$PARTICLE_IMAGE" ] || return 1
  local path=${PARTICLE_IMAGE#*:}
  [ -e "$path" ] || return 1
  printf '%s\n' "$PARTICLE_IMAGE"
}
