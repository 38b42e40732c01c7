import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BOOTC_TARGET_IMGREF, ensureBootcTestImage } from '../support/bootc-test-image';
import { ensureOciTestImage } from '../support/oci-test-image';
import { run } from '../vm/proc';

/**
 * The ISO under test: one given (--iso or PARTICLE_QA_ISO), the last one this harness built
 * (--reuse), or a fresh build by live-iso/build.sh with the test OCI image embedded. The build
 * script caches its rootfs stage itself, so a rebuild after a code change takes minutes, not tens.
 */

export const REPO = resolve(import.meta.dirname, '../..');
export const ISO_NAME = 'particle-live';
/** The ISO with the bootc test image embedded (--deployer bootc), built beside the other one. */
export const BOOTC_ISO_NAME = 'particle-live-bootc';

/** live-iso/build.sh's DIR/particle-live.build.json (fields the harness reports; others are kept as they are). */
export interface IsoBuildInfo {
  readonly isoBytes: number;
  readonly seconds: Readonly<Record<string, number>>;
  readonly rootfsCache: 'hit' | 'miss';
  readonly [key: string]: unknown;
}

export interface IsoUnderTest {
  readonly path: string;
  readonly bytes: number;
  readonly how: 'given' | 'reused' | 'built';
  /** The build script's own figures, when its build.json sits next to the ISO. */
  readonly build: IsoBuildInfo | null;
  /** Wall-clock seconds this run spent getting the ISO (0 when given or reused). */
  readonly seconds: number;
}

export interface ObtainIsoOptions {
  /** Use this ISO as it is. */
  readonly iso?: string;
  /** Use the ISO in `outDir` when there is one. */
  readonly reuse?: boolean;
  /** Where the build writes (default test-results/qa/iso). */
  readonly outDir?: string;
  /** Run `npm run build` first (the ISO copies out/); default true, as the ISO must hold the code under test. */
  readonly buildApp?: boolean;
  /**
   * The embedded image: the oci-rootfs test image (default), or the bootc test image installed with
   * the bootc deployer, the ISO built with --target-imgref (never given: always built).
   */
  readonly image?: 'oci-rootfs' | 'bootc';
  readonly log?: (line: string) => void;
}

export function readBuildInfo(iso: string): IsoBuildInfo | null {
  const file = iso.replace(/\.iso$/, '.build.json');
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as IsoBuildInfo;
}

export async function obtainIso(o: ObtainIsoOptions = {}): Promise<IsoUnderTest> {
  const log = o.log ?? ((l: string) => console.log(`[qa] ${l}`));
  const bootc = o.image === 'bootc';
  const name = bootc ? BOOTC_ISO_NAME : ISO_NAME;
  const given = bootc ? undefined : (o.iso ?? process.env.PARTICLE_QA_ISO);
  if (given) {
    const path = resolve(given);
    if (!existsSync(path)) throw new Error(`the ISO ${path} does not exist`);
    return { path, bytes: statSync(path).size, how: 'given', build: readBuildInfo(path), seconds: 0 };
  }
  const outDir = resolve(o.outDir ?? join(REPO, bootc ? 'test-results/qa/iso-bootc' : 'test-results/qa/iso'));
  const path = join(outDir, `${name}.iso`);
  if (o.reuse && existsSync(path)) {
    log(`reusing ${path}`);
    return { path, bytes: statSync(path).size, how: 'reused', build: readBuildInfo(path), seconds: 0 };
  }
  const started = performance.now();
  mkdirSync(outDir, { recursive: true });
  const buildLog = join(outDir, 'build.log');
  if (o.buildApp !== false && process.env.PARTICLE_APP_BUILT === '1') {
    // Set by scripts/test-all.mjs after its own build of this checkout succeeded, before any test ran.
    log('the app was built by npm test before the tests started (PARTICLE_APP_BUILT=1): no second build');
  } else if (o.buildApp !== false) {
    log('npm run build (the ISO copies out/engine and out/renderer)');
    await run(['npm', 'run', 'build'], { timeoutMs: 20 * 60_000 });
  }
  const layout = bootc ? (await ensureBootcTestImage(log)).layout : (await ensureOciTestImage(log)).layout;
  const deployer = bootc ? ['--deployer', 'bootc', '--target-imgref', BOOTC_TARGET_IMGREF] : ['--deployer', 'oci-rootfs'];
  log(`building the ISO with ${layout} embedded (log: ${buildLog})`);
  await streamed(['bash', join(REPO, 'live-iso/build.sh'), '--out', outDir, '--name', name, '--image', `oci:${layout}`, ...deployer], buildLog, log, 90 * 60_000);
  if (!existsSync(path)) throw new Error(`live-iso/build.sh finished but wrote no ${path}`);
  return { path, bytes: statSync(path).size, how: 'built', build: readBuildInfo(path), seconds: (performance.now() - started) / 1000 };
}

/** Runs a build, its output into `logFile` and its `[live-iso]` lines to `log`; throws with the log's tail. */
function streamed(argv: string[], logFile: string, log: (line: string) => void, timeoutMs: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const out = createWriteStream(logFile);
    const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    let partial = '';
    const onData = (d: Buffer): void => {
      out.write(d);
      const text = partial + d.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        tail = `${tail}${l}\n`.slice(-6000);
        if (l.startsWith('[live-iso]')) log(l);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      out.end();
      if (code === 0) resolvePromise();
      else reject(new Error(`live-iso/build.sh failed (${signal ?? `exit ${code}`}); see ${logFile}; its last lines:\n${(tail + partial).trimEnd().split('\n').slice(-30).join('\n')}`));
    });
  });
}

/** Copies the live kernel out of the ISO (for QEMU's KVM probe); null when xorriso is missing or fails. */
export async function extractKernel(iso: string, dest: string): Promise<string | null> {
  try {
    await run(['xorriso', '-osirrox', 'on', '-indev', iso, '-extract', '/live/vmlinuz', dest], { timeoutMs: 60_000 });
    return existsSync(dest) ? dest : null;
  } catch {
    return null;
  }
}
