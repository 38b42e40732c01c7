import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { PlanAction } from '../../shared';
import { parseMountinfo } from '../disks';
import type { Exec } from '../exec';
import { realProbes, type Probes } from './real';
import { teardownCheck } from './teardown';

/**
 * What an engine has set up that outlives it if it is killed (kill -9, power cut of the live
 * session's service, an OOM kill): the install in progress (its mounts, LUKS mappings, swap, the
 * podman container) and the loop devices it attached. Each engine process keeps one state file,
 * `<runRoot>/engine-<pid>.json`, written atomically whenever that changes. The next engine to
 * start reads the files of engines that are gone and releases what they left before it accepts
 * an install; an orderly stop deletes its own file.
 */

export interface LoopRecord {
  readonly device: string;
  readonly backingFile: string;
  /** The kernel's disk sequence number when attached: a reused /dev/loopN has another one. */
  readonly diskSeq: number | null;
}

export interface InstallRecord {
  readonly planId: string;
  readonly disk: string;
  readonly runDir: string;
  /** The step that was running; null before the first one started. */
  readonly step: string | null;
  /** The plan's teardown actions: what the run itself would have released. */
  readonly teardown: readonly PlanAction[];
}

export interface EngineStateRecord {
  readonly version: 1;
  readonly pid: number;
  /** Field 22 of /proc/PID/stat (start time in clock ticks): tells a reused pid from ours. */
  readonly pidStart: string | null;
  readonly startedAt: string;
  readonly loops: readonly LoopRecord[];
  readonly install: InstallRecord | null;
}

const STATE_FILE = /^engine-(\d+)\.json$/;

export function stateFilePath(runRoot: string, pid = process.pid): string {
  return join(runRoot, `engine-${pid}.json`);
}

function procStart(pid: number, proc = '/proc'): string | null {
  try {
    const stat = readFileSync(`${proc}/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ")".
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function readDiskSeq(device: string): number | null {
  try {
    const text = readFileSync(`/sys/block/${basename(device)}/diskseq`, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/** This engine's state file. Nothing is written while there is nothing to recover. */
export class EngineState {
  private record: EngineStateRecord;
  private readonly path: string;

  constructor(readonly runRoot: string) {
    this.path = stateFilePath(runRoot);
    this.record = { version: 1, pid: process.pid, pidStart: procStart(process.pid), startedAt: new Date().toISOString(), loops: [], install: null };
  }

  /** A loop device this engine attached; its backing file is read from sysfs unless given. */
  addLoop(device: string, backingFile = safeRead(`/sys/block/${basename(device)}/loop/backing_file`)?.trim() ?? ''): void {
    this.update({ loops: [...this.record.loops.filter((l) => l.device !== device), { device, backingFile, diskSeq: readDiskSeq(device) }] });
  }

  removeLoop(device: string): void {
    this.update({ loops: this.record.loops.filter((l) => l.device !== device) });
  }

  beginInstall(install: Omit<InstallRecord, 'step'>): void {
    this.update({ install: { ...install, step: null } });
  }

  stepStarted(step: string): void {
    if (this.record.install) this.update({ install: { ...this.record.install, step } });
  }

  /** The install ended and its own teardown ran: nothing of it is left to recover. */
  endInstall(): void {
    this.update({ install: null });
  }

  /** An orderly stop: forget everything. */
  dispose(): void {
    this.record = { ...this.record, loops: [], install: null };
    rmSync(this.path, { force: true });
  }

  private update(change: Partial<EngineStateRecord>): void {
    this.record = { ...this.record, ...change };
    if (this.record.loops.length === 0 && this.record.install === null) {
      rmSync(this.path, { force: true });
      return;
    }
    mkdirSync(this.runRoot, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.record, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}

export interface RecoveryReport {
  /** The engine that died, and the step it was in. */
  readonly pid: number;
  readonly step: string | null;
  readonly disk: string | null;
  /** What was released, in order, as commands or plain words. */
  readonly released: readonly string[];
  /** What could not be released; an install is refused while this is not empty. */
  readonly problems: readonly string[];
}

export interface RecoveryDeps {
  readonly exec: Exec;
  readonly log?: (line: string) => void;
  readonly probes?: Probes;
  /** Where /proc is (tests). */
  readonly proc?: string;
  /** How long stray processes get between SIGTERM and SIGKILL. */
  readonly graceMs?: number;
}

const inside = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);

/**
 * Processes still working for a dead install: a cwd, root or open file under its run directory, the
 * run directory in their arguments (bootc's target, podman's `-v TARGET:/target`), or the disk (or a
 * partition of it) open for writing; and every descendant of those.
 */
function strayProcesses(dir: string, disk: string | null, proc: string): number[] {
  const diskNode = disk === null ? null : basename(disk);
  const isDiskNode = (p: string): boolean => diskNode !== null && p.startsWith('/dev/') && new RegExp(`^${diskNode.replace(/[^\w]/g, '\\$&')}(p?\\d+)?$`).test(basename(p));
  const found: number[] = [];
  for (const entry of safeList(proc)) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const base = `${proc}/${entry}`;
    const links = [safeLink(`${base}/cwd`), safeLink(`${base}/root`)];
    let hit = links.some((l) => l !== null && l !== '/' && inside(l, dir));
    if (!hit) hit = (safeRead(`${base}/cmdline`) ?? '').split('\0').some((arg) => arg.includes(dir));
    if (!hit) {
      for (const fd of safeList(`${base}/fd`)) {
        const target = safeLink(`${base}/fd/${fd}`);
        if (target === null) continue;
        if (inside(target, dir)) hit = true;
        else if (isDiskNode(target)) {
          // Readers (udev, blkid) are harmless; a writer still at work on the disk is not.
          const flags = /^flags:\s+([0-7]+)/m.exec(safeRead(`${base}/fdinfo/${fd}`) ?? '')?.[1];
          if (flags !== undefined && (parseInt(flags, 8) & 0o3) !== 0) hit = true;
        }
        if (hit) break;
      }
    }
    if (hit) found.push(Number(entry));
  }
  // Their children too (the fake's bootc inside its podman, mkfs under a wrapper).
  const parent = new Map<number, number>();
  for (const entry of safeList(proc)) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = safeRead(`${proc}/${entry}/stat`);
    const ppid = stat === null ? NaN : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (Number.isInteger(ppid)) parent.set(Number(entry), ppid);
  }
  const all = new Set(found);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!all.has(pid) && all.has(ppid) && pid !== process.pid) {
        all.add(pid);
        grew = true;
      }
    }
  }
  return [...all];
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
function safeLink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}
function safeRead(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function stopProcesses(pids: number[], graceMs: number, proc: string): Promise<string[]> {
  const done: string[] = [];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
      done.push(`stopped process ${pid} (${(safeRead(`${proc}/${pid}/comm`) ?? '?').trim()}) that was still using the install`);
    } catch {
      /* already gone */
    }
  }
  const until = Date.now() + graceMs;
  while (Date.now() < until && pids.some((p) => existsSync(`${proc}/${p}`))) await sleep(50);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return done;
}

/** Mountpoints at or below `dir`, deepest first; null when /proc/self/mountinfo cannot be read. */
function mountsUnder(dir: string): string[] | null {
  const text = safeRead('/proc/self/mountinfo');
  if (text === null) return null;
  return parseMountinfo(text)
    .map((m) => m.target)
    .filter((t) => inside(t, dir))
    .sort((a, b) => b.length - a.length);
}

/**
 * Deletes an install's run directory, never through a mount point: only when nothing is mounted at
 * or below it (and the mount table could be read). Whether it was deleted.
 */
export function removeRunDir(dir: string): boolean {
  if (mountsUnder(dir)?.length !== 0) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}

async function recoverInstall(install: InstallRecord, deps: RecoveryDeps, released: string[], problems: string[]): Promise<void> {
  const proc = deps.proc ?? '/proc';
  const probes = deps.probes ?? realProbes();
  const stray = strayProcesses(install.runDir, install.disk, proc);
  if (stray.length > 0) released.push(...(await stopProcesses(stray, deps.graceMs ?? 3000, proc)));

  // The run's own teardown first (container, mounts, swap, LUKS), each only if still held.
  for (const action of install.teardown) {
    if (action.kind !== 'run') continue;
    // An action the plan runs only under conditions (podman with its storage on the target) is run
    // here only when they hold: podman --root would otherwise create that storage where the target
    // is no longer mounted.
    if (action.when?.some((c) => (c.test === 'exists' && !existsSync(c.path)) || (c.test === 'missing' && existsSync(c.path)))) continue;
    const check = teardownCheck(action);
    const held =
      check.kind === 'mount' ? await probes.isMounted(check.path) : check.kind === 'mapper' ? await probes.mapperExists(check.name) : check.kind === 'swap' ? await probes.swapActive(check.device) : true;
    if (!held) continue;
    try {
      await deps.exec(action.argv, { timeoutMs: (action.timeoutSeconds ?? 60) * 1000 });
      released.push(action.argv.join(' '));
    } catch (e) {
      // `podman rm --ignore` on a machine without podman and the like: worth a line, not a refusal,
      // unless what it releases is still there afterwards (checked below for mounts and mappings).
      deps.log?.(`recovery: ${action.argv.join(' ')} failed: ${(e as Error).message}`);
      if (check.kind === 'mapper' && (await probes.mapperExists(check.name))) problems.push(`/dev/mapper/${check.name} is still open (cryptsetup close ${check.name} failed)`);
      if (check.kind === 'swap' && (await probes.swapActive(check.device))) problems.push(`swap on ${check.device} is still active`);
    }
  }
  // Anything else mounted under the run directory (a step that died between mount and record).
  for (const m of mountsUnder(install.runDir) ?? []) {
    try {
      await deps.exec(['umount', m], { timeoutMs: 120_000 });
      released.push(`umount ${m}`);
    } catch (e) {
      problems.push(`${m} is still mounted: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (removeRunDir(install.runDir)) released.push(`removed ${install.runDir}`);
}

async function recoverLoops(loops: readonly LoopRecord[], deps: RecoveryDeps, released: string[], problems: string[]): Promise<void> {
  for (const loop of loops) {
    const name = basename(loop.device);
    const backing = safeRead(`/sys/block/${name}/loop/backing_file`)?.trim();
    // Detached already, or attached again since (to this file or another): not ours to detach.
    if (backing !== loop.backingFile) continue;
    if (loop.diskSeq !== null && readDiskSeq(loop.device) !== loop.diskSeq) continue;
    const mounted = parseMountinfo(safeRead('/proc/self/mountinfo') ?? '').filter((m) => m.source === loop.device || m.source.startsWith(`${loop.device}p`));
    if (mounted.length > 0) {
      problems.push(`${loop.device} is still in use (${mounted.map((m) => m.target).join(', ')} mounted)`);
      continue;
    }
    try {
      await deps.exec(['losetup', '--detach', loop.device]);
      released.push(`losetup --detach ${loop.device}`);
    } catch (e) {
      problems.push(`${loop.device} could not be detached: ${(e as Error).message.split('\n')[0]}`);
    }
  }
}

/**
 * Releases what dead engines left behind, from their state files under `runRoot`. Files of live
 * engines are left alone. A file is deleted once everything in it was released; otherwise it stays
 * for the next start and the report's problems say what is still held.
 */
export async function recoverLeftovers(runRoot: string, deps: RecoveryDeps): Promise<RecoveryReport[]> {
  const reports: RecoveryReport[] = [];
  const proc = deps.proc ?? '/proc';
  for (const file of safeList(runRoot).sort()) {
    const m = STATE_FILE.exec(file);
    if (!m) continue;
    const pid = Number(m[1]);
    const path = join(runRoot, file);
    let record: EngineStateRecord;
    try {
      record = JSON.parse(readFileSync(path, 'utf8')) as EngineStateRecord;
      if (record.version !== 1 || record.pid !== pid || !Array.isArray(record.loops)) throw new Error('not a state file of this version');
    } catch (e) {
      reports.push({ pid, step: null, disk: null, released: [], problems: [`${path} cannot be read (${(e as Error).message}); remove it once nothing of that install is mounted or open`] });
      continue;
    }
    // Still running (the same process: same pid and start time) is not ours to touch. A file with
    // our own pid but another start time was left by a predecessor that had the same pid.
    const start = procStart(pid, proc);
    if (start !== null && (record.pidStart === null || start === record.pidStart)) continue;
    const released: string[] = [];
    const problems: string[] = [];
    if (record.install) await recoverInstall(record.install, deps, released, problems);
    await recoverLoops(record.loops, deps, released, problems);
    if (problems.length === 0) unlinkSync(path);
    const report = { pid, step: record.install?.step ?? null, disk: record.install?.disk ?? null, released, problems };
    deps.log?.(
      `recovered after engine ${pid} stopped unexpectedly${report.step ? ` during step "${report.step}"` : ''}: ${released.length > 0 ? released.join('; ') : 'nothing was left'}` +
        (problems.length > 0 ? `. Still held: ${problems.join('; ')}` : ''),
    );
    reports.push(report);
  }
  return reports;
}
