// npm run bench: figures people staring at a live ISO care about. Needs `npm run build` first.
//  - listDisks through the engine service (stdio, warm) against plain lsblk with the same columns
//  - the renderer's initial JavaScript and CSS gzipped, and the time to an interactive Welcome page (bench-ui.ts)
//  - start-up: the engine's start to listening, and the Welcome page on one slowed CPU (bench-start.ts)
//  - install figures (root; see bench-install.ts): engine against a plain script, progress events, peak RSS
//  - OCI unpacking against tar -xzf of the same layers (bench-unpack.ts)
//  - oci-rootfs in QEMU: power-on to login prompt of what was installed, UEFI and BIOS (bench-vm-boot.ts)
// Separately: the pre-flight's cost before an install starts (bench-preflight.ts).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LSBLK_COLUMNS } from '../src/engine/disks';
import { installFigures } from './bench-install';
import { unpackFigures } from './bench-unpack';
import { vmBootFigures } from './bench-vm-boot';
import { median } from './bench-start';
import { uiFigures } from './bench-ui';

const RUNS = 20;
const cols = Array.isArray(LSBLK_COLUMNS) ? LSBLK_COLUMNS.join(',') : String(LSBLK_COLUMNS);

/** Times listDisks through the service and plain lsblk alternately, so both see the same machine load. */
async function latencies(): Promise<{ service: number[]; lsblk: number[] }> {
  const child = spawn(process.execPath, ['out/engine/cli.mjs', 'service', '--stdio', '--mode', 'normal'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = '';
  const waiters = new Map<number, () => void>();
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const msg = JSON.parse(line) as { id?: number; error?: unknown };
      if (msg.error) throw new Error(`listDisks failed: ${JSON.stringify(msg.error)}`);
      if (typeof msg.id === 'number') waiters.get(msg.id)?.();
    }
  });
  const call = (id: number): Promise<number> =>
    new Promise((resolve) => {
      const t = performance.now();
      waiters.set(id, () => resolve(performance.now() - t));
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method: 'listDisks', params: {} })}\n`);
    });
  const plain = (): number => {
    const t = performance.now();
    const r = spawnSync('lsblk', ['--json', '--bytes', '--output', cols]);
    if (r.status !== 0) throw new Error(`lsblk failed: ${r.stderr}`);
    return performance.now() - t;
  };
  for (let i = 0; i < 3; i++) {
    await call(1000 + i); // warm-up: JIT, caches
    plain();
  }
  const service: number[] = [];
  const lsblk: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    service.push(await call(i));
    lsblk.push(plain());
  }
  child.stdin.end();
  child.kill('SIGTERM');
  return { service, lsblk };
}

if (!existsSync('out/engine/cli.mjs') || !existsSync('out/renderer/index.html')) {
  console.error('bench: build first (npm run build)');
  process.exit(2);
}
const measured = await latencies();
const svc = median(measured.service);
const plain = median(measured.lsblk);
const ratio = svc / plain;
console.log(`listDisks via service (stdio, median of ${RUNS}, warm): ${svc.toFixed(1)} ms`);
console.log(`plain lsblk --json --bytes (median of ${RUNS}):          ${plain.toFixed(1)} ms`);
console.log(`ratio: ${ratio.toFixed(2)} (target <= 1.5) ${ratio <= 1.5 ? 'OK' : 'OVER TARGET'}`);
await uiFigures();
await installFigures();
for (const line of await unpackFigures()) console.log(line);
await vmBootFigures();
