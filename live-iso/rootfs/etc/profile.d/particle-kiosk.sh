# The live user's login on the first console becomes the kiosk (the installer full screen). Other
# consoles, and "Boot to a shell" (installer.shell), get an ordinary shell.
if [ "$(id -un)" = live ] && [ "$(tty)" = /dev/tty1 ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  exec /usr/lib/particle-installer/live/kiosk
fi
