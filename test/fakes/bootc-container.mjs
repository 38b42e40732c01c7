// The podman form of the bootc contract fake inside a real container: the VM level's test image
// carries it as /usr/bin/bootc (test/vm/guest/install-podman.ts builds that image), and real podman
// runs it. Only bootc is played; what bootc can tell about its container is read from the container
// itself, the way bootc reads it (crates/lib/src/install.rs at 534c76ea474a356aa288f6767635e579ea2614d5):
// - in a container: /run/.containerenv exists (containerenv.rs), which also names the image, its
//   id and whether podman is rootless (get_container_execution_info, used at install.rs:1571-1586);
// - privileged: CAP_SYS_ADMIN in the effective set (require_root, cli.rs:1040-1063);
// - --pid=host: bootc is not PID 1 (require_host_pidns, install.rs:1446-1452);
// - the root user namespace: /proc/1 owned by uid 0 (require_host_userns, install.rs:1456-1470);
// - `/` is the image's own root: prepare-root.conf, the install config and bootupctl come from it.
// Paths need no translation: the -v mounts are real.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fail, logInvocation, main } from './lib/common.mjs';
import { realRoot } from './lib/roots.mjs';
import { runBootc } from './lib/run.mjs';
import { describeImage } from './lib/storage.mjs';

function containerEnv() {
  let text;
  try {
    text = readFileSync('/run/.containerenv', 'utf8');
  } catch {
    return null;
  }
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)="?(.*?)"?$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

function capSysAdmin() {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? (BigInt(`0x${m[1]}`) & (1n << 21n)) !== 0n : false;
}

const argv = process.argv.slice(2);
logInvocation('bootc', argv, { container: true, real: true });
await main(async () => {
  const ce = containerEnv();
  if (ce === null) fail('bootc-container.mjs runs only inside a podman container (no /run/.containerenv)');
  const image = { ...describeImage(ce.image || 'localhost/unknown:latest'), ...(ce.imageid ? { id: ce.imageid } : {}) };
  const container = { privileged: capSysAdmin(), pidHost: process.pid !== 1, proc1Uid: statSync('/proc/1').uid, rootless: ce.rootless === '1' };
  await runBootc(argv, { uid: process.getuid(), inContainer: true, containerImage: image, host: (p) => resolve(p), container, imageRoot: realRoot('/', 'image') });
});
