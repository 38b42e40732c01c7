import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { validateAnswerFile, type Disk, type EngineMode, type InstallPlan, type SaveResult, type SaveTarget } from '../../shared';
import type { SaveParamsSchema } from '../../shared/system';
import { LSBLK_COLUMNS } from '../disks';
import type { Exec } from '../exec';
import { EngineFailure } from '../failure';
import { writeLogBundle, type LogBundleParts } from '../install';
import { invalidAnswerFile, plainSecrets } from './answer-export';
import { reason } from './deps';
import { machineReport, type MachineProbe } from './machine';

/**
 * Saving the answer file or the log bundle: handed back for the front end to offer as a download,
 * or written onto a removable partition (a USB stick), mounted for the occasion when it is not
 * mounted already, synced and unmounted again.
 */

export type SaveParams = z.output<typeof SaveParamsSchema>;

export const SAVE_FS_TYPES: ReadonlySet<string> = new Set(['vfat', 'exfat', 'ext4', 'ntfs', 'ntfs3']);
/** Largest file handed back as base64 over the engine protocol. */
export const MAX_DOWNLOAD_BYTES = 16 * 1024 * 1024;
export const ANSWER_FILE_NAME = 'particle-answer-file.json';

/** Partitions (or unpartitioned sticks) of removable or USB disks a file can be written to. */
export function saveTargets(disks: readonly Disk[], mode: EngineMode): SaveTarget[] {
  const out: SaveTarget[] = [];
  for (const d of disks) {
    // Test mode also offers loop devices, so tests can save onto one.
    const portable = d.removable || d.transport === 'usb' || (mode === 'test' && d.type === 'loop');
    if (!portable || d.readOnly || d.reasons.some((r) => r.code === 'live-medium')) continue;
    if (d.partitions.length === 0) {
      if (d.fsType && SAVE_FS_TYPES.has(d.fsType) && d.holders.length === 0) out.push({ path: d.path, label: null, model: d.model, size: d.size, fsType: d.fsType });
      continue;
    }
    for (const p of d.partitions) {
      if (!p.fsType || !SAVE_FS_TYPES.has(p.fsType) || p.holders.length > 0) continue;
      out.push({ path: p.path, label: p.label, model: d.model, size: p.size, fsType: p.fsType });
    }
  }
  return out;
}

/** Where a save target is mounted now, from the probe (null when it is not). */
function mountpointOf(disks: readonly Disk[], path: string): string | null {
  for (const d of disks) {
    if (d.path === path) return d.mountpoints.find((m) => m.startsWith('/')) ?? null;
    const p = d.partitions.find((x) => x.path === path);
    if (p) return p.mountpoints.find((m) => m.startsWith('/')) ?? null;
  }
  return null;
}

export interface SaveDeps {
  readonly mode: EngineMode;
  readonly exec: Exec;
  readonly probe: () => Promise<Disk[]>;
  /** Parent of the private directories partitions are mounted on. */
  readonly runRoot: string;
  /** Where the last install's files are kept (see saveLastInstall in installer.ts). */
  readonly logDir: string;
  /** The install of this engine process, when there was one: its log is newer than logDir's. */
  readonly lastInstall: () => { log: LogBundleParts['log']; plan: InstallPlan; request: unknown; secrets: string[] } | null;
  readonly now?: () => number;
  /** The machine's facts for the bundle's machine.json; systeminformation by default. */
  readonly machine?: () => Promise<MachineProbe>;
}

/** "particle-install-2026-11-22T10-00-00.tar.gz": UTC, no colons (vfat and Windows refuse them). */
export function bundleFileName(now: number): string {
  return `particle-install-${new Date(now).toISOString().slice(0, 19).replace(/:/g, '-')}.tar.gz`;
}

async function logBundle(deps: SaveDeps): Promise<Buffer> {
  let lsblk: unknown;
  try {
    lsblk = JSON.parse((await deps.exec(['lsblk', '--json', '--bytes', '--output', LSBLK_COLUMNS.join(',')], { timeoutMs: 30_000 })).stdout);
  } catch (e) {
    lsblk = { error: reason(e) };
  }
  let parts: LogBundleParts;
  const current = deps.lastInstall();
  if (current) {
    parts = { log: current.log, plan: current.plan, lsblk, answerFile: current.request, machine: await machineReport(deps.machine), secrets: current.secrets };
  } else {
    // What an earlier engine process kept; already redacted when it was written.
    const dir = join(deps.logDir, 'last');
    const read = (f: string): string | null => {
      try {
        return readFileSync(join(dir, f), 'utf8');
      } catch {
        return null;
      }
    };
    const log = read('install.log');
    const plan = read('plan.json');
    const request = read('answer-file.json');
    parts = {
      log: { toText: () => log ?? 'No install has run on this computer yet.\n' },
      plan: plan === null ? null : (JSON.parse(plan) as InstallPlan),
      lsblk,
      answerFile: request === null ? null : (JSON.parse(request) as unknown),
      machine: await machineReport(deps.machine),
      secrets: [],
    };
  }
  await mkdir(deps.runRoot, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(deps.runRoot, 'bundle-'));
  try {
    const file = join(dir, 'bundle.tar.gz');
    await writeLogBundle(file, parts, deps.now);
    return await readFile(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function answerFileContent(text: string | undefined): Buffer {
  if (text === undefined) throw EngineFailure.of('invalid-input', 'Saving an answer file needs its text (from exportAnswerFile).');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw EngineFailure.of('invalid-input', `The answer file is not JSON: ${reason(e)}`);
  }
  const v = validateAnswerFile(doc);
  if (!v.ok) throw invalidAnswerFile(v.errors);
  const secrets = plainSecrets(v.value);
  if (secrets.length > 0) {
    throw EngineFailure.of('invalid-input', `The answer file holds secrets in plain text (${secrets.join(', ')}); export it with exportAnswerFile, which hashes passwords and leaves passphrases out.`);
  }
  return Buffer.from(text, 'utf8');
}

export async function saveFile(params: SaveParams, deps: SaveDeps): Promise<SaveResult> {
  const now = (deps.now ?? Date.now)();
  const fileName = params.kind === 'log-bundle' ? bundleFileName(now) : ANSWER_FILE_NAME;
  // Checked before anything else, so a bad request mounts nothing.
  let targetPath: string | null = null;
  let disks: Disk[] = [];
  if (params.target.type === 'device') {
    disks = await deps.probe();
    targetPath = params.target.path;
    if (!saveTargets(disks, deps.mode).some((t) => t.path === targetPath)) {
      throw EngineFailure.of('invalid-input', `${targetPath} is not a removable partition a file can be saved to (see listSaveTargets).`);
    }
  }
  const content = params.kind === 'answer-file' ? answerFileContent(params.text) : await logBundle(deps);
  if (targetPath === null) {
    if (content.length > MAX_DOWNLOAD_BYTES) {
      throw EngineFailure.of('invalid-input', `The file is ${content.length} bytes, more than the ${MAX_DOWNLOAD_BYTES} bytes a download may have; save it to a USB stick instead.`);
    }
    return { fileName, bytes: content.length, contentBase64: content.toString('base64') };
  }
  await writeToDevice(targetPath, mountpointOf(disks, targetPath), fileName, content, deps);
  return { fileName, bytes: content.length, writtenTo: `/${fileName}` };
}

/** Writes into the partition's mountpoint, or mounts it on a fresh private directory for the write. */
async function writeToDevice(device: string, mountedAt: string | null, fileName: string, content: Buffer, deps: SaveDeps): Promise<void> {
  let dir = mountedAt;
  let ours: string | null = null;
  try {
    if (dir === null) {
      await mkdir(deps.runRoot, { recursive: true, mode: 0o700 });
      ours = await mkdtemp(join(deps.runRoot, 'save-'));
      await chmod(ours, 0o700);
      await deps.exec(['mount', '-o', 'nosuid,nodev,noexec', device, ours], { timeoutMs: 60_000 });
      dir = ours;
    }
    const file = join(dir, fileName);
    const partial = `${file}.partial`;
    try {
      // Readable by whoever gets the stick: it holds password hashes at most, never a plain secret.
      await writeFile(partial, content, { mode: 0o644 });
      await rename(partial, file);
    } catch (e) {
      await rm(partial, { force: true });
      throw EngineFailure.of('command-failed', `Could not write ${fileName} to ${device}: ${reason(e)}`, { kind: 'system' });
    }
    await deps.exec(['sync', '-f', file], { timeoutMs: 120_000 });
  } finally {
    if (ours !== null) {
      // Only what was mounted here is unmounted, also after a failure; the directory goes too.
      if (dir === ours) await deps.exec(['umount', ours], { timeoutMs: 120_000 }).catch(() => deps.exec(['umount', '--lazy', ours!]).catch(() => undefined));
      // rmdir refuses (EBUSY) while something is still mounted there, so nothing mounted is lost.
      await rmdir(ours).catch(() => undefined);
    }
  }
}
