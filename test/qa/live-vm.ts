import type { ChildProcess } from 'node:child_process';
import { copyFileSync, createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OVMF_VARS, spawnQemu, type Firmware } from '../vm/qemu';
import { run } from '../vm/proc';
import { liveVmArgs, type Medium } from './args';
import { Qmp } from './qmp';
import { Monitor } from './screen';
import { SerialConsole, sleep } from './serial';

/**
 * One boot of the live ISO in QEMU: a blank target disk, the serial console logged to a file and
 * readable as text, the monitor for screen dumps and power buttons. The QEMU process is tracked by
 * test/vm/qemu.ts and killed by its pid in stop().
 */

export interface LiveVmOptions {
  readonly accel: 'kvm' | 'tcg';
  readonly firmware: Firmware;
  readonly medium: Medium;
  readonly iso: string;
  /** The new blank target disk's file (created here, sparse). */
  readonly target: string;
  readonly targetSize: string;
  readonly targetSerial: string;
  readonly serialLog: string;
  readonly forward?: { readonly hostPort: number; readonly guestPort: number };
  readonly isolated: boolean;
  readonly memoryMiB?: number;
  readonly cpus?: number;
  /** The display adapter: virtio-gpu (default) or the standard VGA. */
  readonly vga?: 'virtio' | 'std';
}

export interface LiveVm {
  readonly console: SerialConsole;
  readonly monitor: Monitor;
  /** The guest's own keyboard and pointer. */
  readonly input: Qmp;
  readonly pid: number;
  readonly args: readonly string[];
  /** Seconds since QEMU started. */
  now(): number;
  exited(): boolean;
  /** Seconds since QEMU started at which it exited, or null while it runs. */
  exitedAt(): number | null;
  /** Waits up to `timeoutMs` for QEMU to end by itself; true when it did. */
  waitExit(timeoutMs: number): Promise<boolean>;
  /** Kills QEMU (by its pid) if it still runs, and removes the temporary files; the serial log stays. */
  stop(): Promise<void>;
}

/** Fails clearly when a host port cannot be bound (the engine checks Host, so the forward cannot move). */
export async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(`host port 127.0.0.1:${port} is taken (${e.code}); the live engine's port must be forwarded to the same port number, so free it first (ss -ltnp 'sport = :${port}')`)),
    );
    s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
  });
}

export async function startLiveVm(o: LiveVmOptions): Promise<LiveVm> {
  const tmp = mkdtempSync(join(tmpdir(), 'particle-qa-vm-'));
  let ovmfVars: string | undefined;
  if (o.firmware === 'uefi') {
    ovmfVars = join(tmp, 'OVMF_VARS.fd');
    copyFileSync(OVMF_VARS, ovmfVars);
  }
  rmSync(o.target, { force: true });
  await run(['truncate', '-s', o.targetSize, o.target]);
  const monitorSocket = join(tmp, 'monitor.sock');
  const qmpSocket = join(tmp, 'qmp.sock');
  const args = liveVmArgs({
    accel: o.accel,
    firmware: o.firmware,
    ovmfVars,
    iso: o.iso,
    medium: o.medium,
    target: o.target,
    targetSerial: o.targetSerial,
    memoryMiB: o.memoryMiB ?? 3072,
    cpus: o.cpus ?? 2,
    monitorSocket,
    qmpSocket,
    forward: o.forward,
    isolated: o.isolated,
    vga: o.vga ?? 'virtio',
  });
  const log: WriteStream = createWriteStream(o.serialLog);
  const startedAt = performance.now();
  // Timed like an installed disk's boot (nice -5, see timedBootArgv): the harness reads times off
  // this guest's screen, and its keyboard's 16-byte queue must be read while the other lane works.
  const child: ChildProcess = spawnQemu(args, { timed: true });
  let stderr = '';
  let exitedFlag = false;
  let exitSeconds: number | null = null;
  const gone = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      exitedFlag = true;
      exitSeconds = (performance.now() - startedAt) / 1000;
      log.write(`\n[qa] QEMU exited (${signal ?? `code ${code}`}) after ${((performance.now() - startedAt) / 1000).toFixed(1)} s${stderr.trim() ? `; stderr: ${stderr.trim()}` : ''}\n`);
      resolve();
    }),
  );
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const serial = new SerialConsole({ input: child.stdout!, output: child.stdin!, startedAt, name: `the live system (${o.firmware})`, onText: (t) => log.write(t) });
  const stop = async (): Promise<void> => {
    monitor?.close();
    qmp?.close();
    if (!exitedFlag && child.pid) process.kill(child.pid, 'SIGKILL');
    await gone;
    await new Promise<void>((resolve) => log.end(() => resolve()));
    rmSync(tmp, { recursive: true, force: true });
  };
  let monitor: Monitor | undefined;
  let qmp: Qmp | undefined;
  try {
    monitor = await Monitor.connect(monitorSocket, 30_000, () => !exitedFlag);
    qmp = await Qmp.connect(qmpSocket, 30_000, () => !exitedFlag);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}; QEMU said: ${stderr.trim() || '(nothing)'}\nargv: qemu-system-x86_64 ${args.join(' ')}`);
  }
  const m = monitor;
  const input = qmp;
  return {
    console: serial,
    monitor: m,
    input,
    pid: child.pid!,
    args,
    now: () => (performance.now() - startedAt) / 1000,
    exited: () => exitedFlag,
    exitedAt: () => exitSeconds,
    async waitExit(timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      while (!exitedFlag && performance.now() < deadline) await sleep(250);
      return exitedFlag;
    },
    stop,
  };
}
