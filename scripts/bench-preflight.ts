/**
 * The pre-flight's cost before an install starts (src/engine/install/preflight.ts), measured:
 *  - the programs check of a real plan (erase, LUKS, btrfs) against this machine's PATH;
 *  - the image check of an embedded image: reading an OCI layout's and an OCI archive's index,
 *    manifest and config (the mmdebstrap-built test image, as the live ISO embeds one);
 *  - the bootc install config of an embedded image: every layer streamed through the tar reader
 *    (nothing unpacked), as pre-flight does for a bootc image before the wipe;
 *  - a registry image through skopeo inspect: the test image from a registry on 127.0.0.1, and a
 *    public one where the network allows (skipped with the reason).
 *
 *   npx tsx scripts/bench-preflight.ts [--runs N]
 */
import { parseArgs } from 'node:util';
import { classifyDisks } from '../src/engine/disks';
import { createExec, type Exec } from '../src/engine/exec';
import { hashRequestPasswords } from '../src/engine/crypt';
import { imagePreflight, preflight, rootCapacity } from '../src/engine/install/preflight';
import { planInstall } from '../src/engine/plan';
import { whichOnPath } from '../src/engine/system/deps';
import { imageFacts, type ImageRef } from '../src/engine/system/image';
import { readInstallConfig } from '../src/engine/system/install-config-read';
import { validateAnswerFile } from '../src/shared';
import { ensureOciArchive, ensureOciTestImage, ociImageUnavailable } from '../test/support/oci-test-image';
import { serveLayout } from '../test/support/registry';
import { median } from './bench-start';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const RUNS = Number(values.runs);
const deps = { exec: createExec(), which: whichOnPath() };
const ms = (x: number): string => `${x.toFixed(2)} ms`;

function timed<T>(f: () => T): [T, number] {
  const t = performance.now();
  const r = f();
  return [r, performance.now() - t];
}

async function timedAsync<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, performance.now() - t];
}

// A real plan for a real-looking machine (the fixture's NVMe laptop disk), erase with LUKS and btrfs.
const disks = classifyDisks(JSON.parse(readFileSync('test/fixtures/machines/vm-virtio/snapshot.json', 'utf8')), { minimumSize: 16 * 1024 ** 3, allowLoop: 'none' });
const target = disks.find((d) => d.verdict !== 'refused')!;
const v = validateAnswerFile({
  version: 1,
  disk: { path: target.path },
  layout: { type: 'erase', filesystem: 'btrfs', encryption: { type: 'luks2', passphrase: 'bench passphrase 1234' } },
  image: { reference: 'quay.io/example/os:42' },
  hostname: 'bench',
  users: [{ name: 'anna', password: 'bench password 1234', admin: true }],
});
if (!v.ok) throw new Error(JSON.stringify(v.errors));
const planned = planInstall(hashRequestPasswords(v.value), disks, { firmware: 'uefi', arch: 'x64', tpm: false, memoryBytes: 8 * 1024 ** 3 }, { id: 'bench0123456789ab', createdAt: '2026-01-01T00:00:00Z', runDir: '/run/particle-installer/bench0123', uuid: () => randomUUID() });
if (!planned.ok) throw new Error(planned.error.message);
const plan = planned.plan;
const programs = new Set(plan.steps.flatMap((s) => s.actions).flatMap((a) => (a.kind === 'run' ? [a.argv[0]!] : []))).size;

const progTimes: number[] = [];
let missing: string[] = [];
for (let i = 0; i < RUNS; i++) {
  const [p, t] = timed(() => preflight(plan, { path: process.env.PATH ?? '', root: '/' }));
  progTimes.push(t);
  missing = p.map((x) => x.what.split(' ')[0]!);
}
console.log(`pre-flight, programs of an erase+LUKS+btrfs plan (${programs} distinct programs; missing here: ${missing.join(', ') || 'none'}), median of ${RUNS}: ${ms(median(progTimes))}`);

const why = ociImageUnavailable();
if (why) {
  console.log(`pre-flight of an embedded image: skipped (${why})`);
} else {
  const img = await ensureOciTestImage();
  const archive = await ensureOciArchive(img);
  for (const ref of [{ reference: img.layout, transport: 'oci' }, { reference: archive, transport: 'oci-archive' }] as ImageRef[]) {
    const times: number[] = [];
    let verdict = '';
    for (let i = 0; i < RUNS; i++) {
      const [facts, t] = await timedAsync(() => imageFacts(ref, deps));
      const p = imagePreflight({ image: ref.reference, bootc: false, machineArch: process.arch, rootBytes: rootCapacity(plan), facts });
      times.push(t);
      verdict = `${(facts.size ?? 0) / 1024 ** 2 > 0 ? `${((facts.size ?? 0) / 1024 ** 2).toFixed(1)} MiB compressed, ` : ''}${facts.architecture ?? '?'}, ${p.length} problems`;
    }
    console.log(`pre-flight of an embedded image (${ref.transport}: ${verdict}), median of ${RUNS}: ${ms(median(times))}`);
    // The install config costs one pass over every layer, once per version of the file: the engine
    // keeps what it read (install-config-read.ts), so the first ask and the later ones are told apart.
    const cfgTimes: number[] = [];
    let cfg = '';
    for (let i = 0; i < Math.max(2, Math.min(RUNS, 5)); i++) {
      const [r, t] = await timedAsync(() => readInstallConfig(ref, deps));
      cfgTimes.push(t);
      cfg = r.kind === 'read' ? (r.config === null ? 'no install config' : `root-fs-type ${r.config.rootFsType ?? 'unset'}`) : r.kind;
    }
    console.log(`pre-flight, the bootc install config of the embedded image (${ref.transport}, ${cfg}): first ask, every layer read: ${ms(cfgTimes[0]!)}; later asks of the same file, from memory, median of ${cfgTimes.length - 1}: ${ms(median(cfgTimes.slice(1)))}`);
  }
}

if (!deps.which('skopeo')) {
  console.log('pre-flight of a registry image: skipped (skopeo is not installed)');
} else {
  // A registry on this machine serving the embedded test image, so the figure is skopeo's and the
  // engine's cost without a network's; plain HTTP needs --tls-verify=false, added to the engine's argv.
  if (!why) {
    const img = await ensureOciTestImage();
    const registry = await serveLayout(img.layout);
    const exec: Exec = (argv, o) => deps.exec(argv[0] === 'skopeo' ? ['skopeo', argv[1]!, '--tls-verify=false', ...argv.slice(2)] : argv, o);
    const times: number[] = [];
    let detail = '';
    for (let i = 0; i < Math.min(RUNS, 10); i++) {
      const [facts, t] = await timedAsync(() => imageFacts({ reference: registry.reference, transport: 'registry' }, { exec, which: deps.which }));
      times.push(t);
      detail = facts.detail;
    }
    await registry.close();
    console.log(`pre-flight of a registry image (a registry on 127.0.0.1, ${detail}), median of ${times.length}: ${ms(median(times))}`);
  }
  const ref: ImageRef = { reference: 'quay.io/fedora/fedora-bootc:42', transport: 'registry' };
  const [facts, t] = await timedAsync(() => imageFacts(ref, deps));
  if (facts.digest === null) console.log(`pre-flight of a registry image over the network: skipped (the registry could not be asked: ${facts.detail.slice(0, 160)})`);
  else console.log(`pre-flight of a registry image over the network (${ref.reference}, ${facts.detail}): ${ms(t)}`);
}
