/** Help texts, one per command; `--help` prints them, usage errors show them on stderr. */

export const USAGE: Readonly<Record<string, string>> = {
  main: `Usage: particle-installer <command> [options]

Commands:
  disks      List this machine's disks and whether each may be installed to
  validate   Check an answer file
  plan       Show what an install from an answer file would do, touching nothing
  install    Install unattended from an answer file (the file is the confirmation)
  bundle-logs  Write the last install's log, plan and redacted answer file to a .tar.gz
  service    Run the engine service over stdio or a Unix socket
  serve      Serve the installer UI and the engine to a browser

Run "particle-installer <command> --help" for a command's options.`,

  disks: `Usage: particle-installer disks [--json] [--lsblk-json FILE] [--min-size BYTES]

List the disks and the verdict on each (ok, warn, refused) with the reasons.

Options:
  --json             Print a JSON array of disks instead of a table
  --lsblk-json FILE  Classify a saved "lsblk --json --bytes" output or a probe snapshot
                     (a JSON object with an "lsblk" key) instead of this machine
  --min-size BYTES   Smallest acceptable disk (digits, or with K/M/G/T); default 16G
  -h, --help         Show this help`,

  plan: `Usage: particle-installer plan --config FILE [--disks-from FILE] [--json]

Show the install plan for an answer file: the disk, the partitions, every command with its exact
arguments, and the point of no return. Nothing is written.

Options:
  --config FILE      The answer file
  --disks-from FILE  Plan against a saved "lsblk --json --bytes" output or probe snapshot
  --json             Print the plan as JSON
  --test-mode        Allow loop devices as targets (tests)
  -h, --help         Show this help`,

  install: `Usage: particle-installer install --config FILE [--json] [--log-dir DIR]
       particle-installer install --config FILE --target-image OUT --size 8G [--format qcow2] [--grow]

Install from an answer file without questions: plan, check the disk again, partition, deploy,
configure. Progress is a bar on a terminal, or one JSON event per line with --json. Ctrl-C cancels
(teardown runs). Exit code 0 only when the install finished.

Options:
  --config FILE   The answer file
  --json          Print the plan and every progress event as JSON lines
  --log-dir DIR   Where the install log is kept (default /var/log/particle-installer)
  --target-image OUT  Install onto a new sparse disk image instead of a disk (the answer file's
                  disk is ignored); OUT must not exist. Written as OUT.partial.raw, renamed or
                  converted when the install finished, removed when it failed
  --size SIZE     Size of the disk image, e.g. 8G or 4096M
  --format F      raw (default) or qcow2 (converted with qemu-img)
  --grow          The root partition and filesystem grow to fill a bigger disk on first boot
  --test-mode     Allow loop devices as targets (tests)
  --min-size N    Smallest acceptable disk in bytes (tests)
  -h, --help      Show this help`,

  'bundle-logs': `Usage: particle-installer bundle-logs OUT [--log-dir DIR]

Write a .tar.gz with the last install's log, its plan, the answer file with secrets removed, and
the current lsblk output, for a bug report.`,

  validate: `Usage: particle-installer validate FILE

Check an answer file (JSON; YAML is not supported). Prints "FILE: valid" and exits 0, or one
line per error naming the field and exits 1. Exits 2 when the file cannot be read.

Options:
  -h, --help  Show this help`,

  service: `Usage: particle-installer service [--stdio | --socket PATH] [--mode normal|demo|test]
                                [--image TRANSPORT:REFERENCE [--deployer bootc|oci-rootfs]
                                 [--target-image REGISTRY-REF]]

Run the engine service: JSON-RPC 2.0, one JSON object per line. Logs go to stderr.

Options:
  --stdio               Requests on stdin, responses and events on stdout (the default)
  --socket PATH         Listen on a Unix socket instead (mode 0660)
  --socket-group GROUP  Give the socket to this group (name or gid)
  --socket-owner UID    Give the socket to this user id; then only this user and root may
                        connect (the peer of each connection is checked, not just the file mode)
  --socket-allow-uid UID  Also let this user id connect (repeatable; needs --socket)
  --mode MODE           normal (real disks), demo (virtual loop disks), test (loop devices allowed)
  --image TRANSPORT:REF The image the wizard offers, e.g. oci:/srv/image (an image embedded in
                        the live ISO); TRANSPORT is registry, oci, oci-archive or containers-storage
  --deployer D          How the offered image is installed: bootc (the default) or oci-rootfs
                        (a plain OCI image without bootc); only with --image
  --target-image REF    The registry image a bootc system installed from --image updates from
                        (bootc's --target-imgref); only with --image
  --run-root DIR        Where install run directories and the engine's state file live
                        (default /run/particle-installer); leftovers of a killed engine found
                        there are released before any install
  -h, --help            Show this help`,

  serve: `Usage: particle-installer serve [--port N] [--listen ADDR] [--demo] [--test-mode]
                              [--token-file FILE [--token-owner UID[:GID]]] [--ui-dir DIR]
                              [--image TRANSPORT:REF [--deployer bootc|oci-rootfs]
                               [--target-image REGISTRY-REF]] [--run-root DIR]

Serve the installer UI over HTTP and the engine over a WebSocket at /rpc, guarded by a random
token. Prints the URL to open, and one JSON line {"event":"listening","url":…,"port":…} on stdout.

Options:
  --port N           Port to listen on; 0 (the default) picks a free one
  --listen ADDR      Address to bind; default 127.0.0.1 (this machine only)
  --demo             Demo mode: virtual loop disks, real disks shown read-only
  --test-mode        Test mode: loop devices may be chosen
  --token-file FILE  Also write the URL (with its token) to FILE, mode 0600
  --token-owner UID[:GID]  Give the token file to this user id (and group id), e.g. the kiosk
                     user's when the engine runs as root; only with --token-file
  --ui-dir DIR       Directory of the built UI; default out/renderer
  --image TRANSPORT:REF  The image the wizard offers, e.g. oci:/srv/image; TRANSPORT is
                     registry, oci, oci-archive or containers-storage
  --deployer D       How the offered image is installed: bootc (the default) or oci-rootfs
                     (a plain OCI image without bootc); only with --image
  --target-image REF The registry image a bootc system installed from --image updates from
                     (bootc's --target-imgref); only with --image
  --run-root DIR     Where install run directories and the engine's state file live
                     (default /run/particle-installer), as for service
  -h, --help         Show this help

Environment:
  PARTICLE_SERVE_TOKEN  Use this token (32 to 128 hexadecimal digits) instead of a random one, so
                     whoever started the engine can hand the URL to a browser before the engine
                     listens (the live kiosk does). An environment variable, not an argument: other
                     users can read a process's arguments but not its environment.`,
};
