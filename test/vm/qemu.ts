import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './proc';
import type { VmImage } from './image';

/**
 * QEMU for tests: KVM when a quick probe shows it works, TCG otherwise. Every QEMU started here is
 * tracked and killed by its pid when its test is done, when it times out, or when this process exits.
 */

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** Kills every QEMU this process started and has not yet seen exit. */
export function killAllVms(): void {
  for (const c of live) c.kill('SIGKILL');
}

let accelMemo: Promise<'kvm' | 'tcg'> | null = null;

/**
 * KVM exists on some machines yet hangs at the first instruction; a guest kernel that prints its
 * banner within a few seconds proves it works. PARTICLE_VM_ACCEL=tcg|kvm skips the probe.
 */
export function accelerator(kernel?: string): Promise<'kvm' | 'tcg'> {
  const forced = process.env.PARTICLE_VM_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return Promise.resolve(forced);
  if (!existsSync('/dev/kvm')) return Promise.resolve('tcg');
  if (accelMemo) return accelMemo;
  // Without a kernel to probe with, TCG is the answer that always works.
  if (!kernel) return Promise.resolve('tcg');
  accelMemo = new Promise((resolve) => {
    const child = spawn('qemu-system-x86_64', [
      '-accel', 'kvm', '-machine', 'q35', '-cpu', 'host', '-m', '256', '-nodefaults', '-display', 'none', '-monitor', 'none',
      '-no-reboot', '-serial', 'stdio', '-kernel', kernel, '-append', 'console=ttyS0 panic=-1 init=/nonexistent',
    ], { stdio: ['ignore', 'pipe', 'ignore'] });
    live.add(child);
    let seen = '';
    const done = (a: 'kvm' | 'tcg'): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(a);
    };
    const timer = setTimeout(() => done('tcg'), 8000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      seen += d;
      if (seen.includes('Linux version')) done('kvm');
    });
    child.on('exit', () => {
      live.delete(child);
      done(seen.includes('Linux version') ? 'kvm' : 'tcg');
    });
  });
  return accelMemo;
}

export interface MachineOptions {
  /** A display adapter (the guest draws on it; `screendump` reads it); default none. */
  readonly vga?: 'virtio' | 'std';
  /** The monitor's character device, e.g. `unix:/tmp/m.sock,server=on,wait=off`; default none. */
  readonly monitor?: string;
}

/**
 * The CPU model under TCG. Not `max`: QEMU 7.2's TCG advertises AVX/AVX2 there (new in that
 * release). Westmere is x86-64-v2 (all Debian's amd64 kernel and userland need) plus AES-NI and
 * PCLMULQDQ, which TCG emulates: with them the guest kernel picks xts-aes-aesni for dm-crypt, and
 * `cryptsetup benchmark -c aes-xts-plain64 -s 512` in the test VM read 24.8 MiB/s encrypting, against
 * 0.6 MiB/s with aes-generic on Nehalem (the model before it), so every LUKS install writes its image
 * about 40 times faster. PARTICLE_TCG_CPU names another model (to measure against one).
 */
export const TCG_CPU_MODEL = process.env.PARTICLE_TCG_CPU ?? 'Westmere';

/**
 * The common QEMU arguments: q35, no default devices, no display window, no reboot (a reboot ends QEMU).
 *
 * Under TCG the guest gets one CPU whatever `cpus` asks. With two, multi-threaded TCG runs each on
 * its own host thread, and code one CPU rewrites can still run stale on the other: guests oopsed on
 * an int3 left by the kernel's own text patching (2.4 s into a boot) and in the scheduler, and node
 * died with SIGILL, which looks like the same race (its JIT writes code that other threads run).
 * One CPU has no such race; a live ISO boot measured 90 s to the engine with one, 69–80 s with two
 * (and 104 s with two on a single host thread).
 */
export function machineArgs(accel: 'kvm' | 'tcg', memoryMiB: number, cpus: number, o: MachineOptions = {}): string[] {
  return [
    '-accel', accel, '-machine', 'q35', '-cpu', accel === 'kvm' ? 'host' : TCG_CPU_MODEL, '-m', String(memoryMiB), '-smp', String(accel === 'kvm' ? cpus : 1),
    '-nodefaults', '-display', 'none', '-monitor', o.monitor ?? 'none', '-no-reboot', '-device', 'virtio-rng-pci',
    ...(o.vga === 'virtio' ? ['-device', 'virtio-vga'] : o.vga === 'std' ? ['-device', 'VGA'] : []),
  ];
}

/**
 * Starts qemu-system-x86_64 with `args`, tracked like every QEMU here: killed when this process
 * exits or killAllVms() runs. The caller kills it by its pid when done. A timed boot runs at nice -5,
 * every other guest at nice -2 (guestArgv).
 */
export function spawnQemu(args: readonly string[], o: { timed?: boolean } = {}): ChildProcess {
  const [command, ...argv] = o.timed ? timedBootArgv(args) : guestArgv(args);
  const child = spawn(command!, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  child.on('exit', () => live.delete(child));
  return child;
}

export interface VmDisk {
  /** Size of a new blank sparse disk, e.g. "4G". */
  readonly size?: string;
  /** An existing disk image to attach instead (kept after the run). */
  readonly path?: string;
  /** Serial number: the guest sees /dev/disk/by-id/virtio-SERIAL. */
  readonly serial: string;
  /** The guest's writes go to a temporary overlay and `path` is left as it was (a cached image). */
  readonly snapshot?: boolean;
}

export interface RunInVmOptions {
  readonly disks?: readonly VmDisk[];
  readonly timeoutMs?: number;
  readonly memoryMiB?: number;
  readonly cpus?: number;
  /** Each chunk the command writes, as it arrives. */
  readonly onOutput?: (chunk: string) => void;
  /** Directory shared read-only as /project; default the current directory. */
  readonly project?: string;
  /** Where new blank disks are created; default a temp dir removed after the run. */
  readonly workDir?: string;
  /** More host folders shared by 9p (read-only unless writable); the command mounts them: `mount -t 9p -o trans=virtio TAG DIR`. */
  readonly shares?: readonly { readonly path: string; readonly tag: string; readonly writable?: boolean }[];
  /**
   * The guest's firmware; default SeaBIOS. With UEFI (OVMF, the kernel still given directly) the guest
   * has /sys/firmware/efi and writable EFI variables, as an installer started from a UEFI machine sees.
   */
  readonly firmware?: 'uefi' | 'bios';
}

export interface RunInVmResult {
  readonly exitCode: number;
  /** What the command wrote (stdout and stderr together). */
  readonly output: string;
  /** The guest's serial console (kernel and init messages). */
  readonly console: string;
  /** The disk image files, in the order given (new ones are deleted after the run unless workDir was given). */
  readonly diskFiles: readonly string[];
  readonly accel: 'kvm' | 'tcg';
  /** Seconds from starting QEMU to the guest being ready to run the command. */
  readonly bootSeconds: number;
  readonly totalSeconds: number;
}

export class VmError extends Error {
  /** True when the guest never got as far as running the command (a boot failure, not the test's). */
  constructor(
    message: string,
    readonly beforeCommand = false,
    /** The QEMU process this run started, for a test that checks it was stopped. */
    readonly qemuPid: number | null = null,
  ) {
    super(message);
    this.name = 'VmError';
  }
}

const READY = /__PARTICLE_VM_READY__ [\d.]+\r?\n/;
const EXIT = /__PARTICLE_VM_EXIT__ (\d+)/;

/** Boots the test image, runs `command` with bash as root inside, and powers the guest off. */
export async function runInVm(image: VmImage, command: string, o: RunInVmOptions = {}): Promise<RunInVmResult> {
  const accel = await accelerator(image.kernel);
  const job = mkdtempSync(join(tmpdir(), 'particle-vm-job-'));
  const work = o.workDir ?? mkdtempSync(join(tmpdir(), 'particle-vm-disks-'));
  const consoleLog = join(job, 'console.log');
  // The output goes to the host twice: live over the second serial port, and into /job/output.log on
  // the shared folder. The file is what counts when the run ends: once (under TCG) everything a guest
  // script printed after some point never reached the serial port, while the script went on to exit 0.
  writeFileSync(join(job, 'cmd.sh'), `(\nset -e\n${command}\n) 2>&1 | tee /job/output.log\nexit "\${PIPESTATUS[0]}"\n`);
  const diskFiles: string[] = [];
  const args = [
    ...machineArgs(accel, o.memoryMiB ?? 2048, o.cpus ?? 2),
    '-kernel', image.kernel, '-initrd', image.initrd,
    // By label: the extra disks are virtio too, and PCI order decides which one is vda.
    '-append', 'root=LABEL=particle-vm rw console=ttyS0 init=/usr/local/sbin/particle-vm-init panic=-1 quiet loglevel=4',
    '-drive', `file=${image.root},if=none,id=root,format=raw,snapshot=on,cache=unsafe`,
    '-device', 'virtio-blk-pci,drive=root,serial=particle-root',
    '-virtfs', `local,path=${o.project ?? process.cwd()},mount_tag=project,security_model=none,readonly=on`,
    '-virtfs', `local,path=${job},mount_tag=job,security_model=none`,
    '-serial', `file:${consoleLog}`, '-serial', 'stdio',
    ...(o.shares ?? []).flatMap((s) => ['-virtfs', `local,path=${s.path},mount_tag=${s.tag},security_model=none${s.writable ? '' : ',readonly=on'}`]),
  ];
  if (o.firmware === 'uefi') args.push(...ovmfArgs(job));
  try {
    for (const [i, d] of (o.disks ?? []).entries()) {
      const file = d.path ?? join(work, `${d.serial}.img`);
      if (!d.path) await run(['truncate', '-s', d.size ?? '1G', file]);
      diskFiles.push(file);
      args.push('-drive', `file=${file},if=none,id=disk${i},format=raw,cache=unsafe${d.snapshot ? ',snapshot=on' : ''}`, '-device', `virtio-blk-pci,drive=disk${i},serial=${d.serial}`);
    }
    const started = performance.now();
    let bootSeconds = 0;
    let output = '';
    let exitCode: number | null = null;
    await new Promise<void>((resolve, reject) => {
      const [command, ...argv] = guestArgv(args);
      const child = spawn(command!, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      live.add(child);
      let stderr = '';
      let buf = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new VmError(`the VM did not finish within ${(o.timeoutMs ?? 600_000) / 1000} s (${accel}); last console lines:\n${lastLines(consoleLog)}\nlast output:\n${output.slice(-2000)}`, bootSeconds === 0, child.pid ?? null));
      }, o.timeoutMs ?? 600_000);
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        if (bootSeconds === 0) {
          const m = READY.exec(buf);
          if (!m) return;
          bootSeconds = (performance.now() - started) / 1000;
          buf = buf.slice(m.index + m[0].length);
        }
        const exit = EXIT.exec(buf);
        const chunk = exit ? buf.slice(0, exit.index) : buf.slice(0, Math.max(0, buf.length - 40));
        if (chunk) {
          output += chunk;
          o.onOutput?.(chunk);
          buf = buf.slice(chunk.length);
        }
        if (exit) exitCode = Number(exit[1]);
      });
      child.on('exit', (code, signal) => {
        live.delete(child);
        clearTimeout(timer);
        if (exitCode !== null) return resolve();
        reject(new VmError(`QEMU stopped before the command finished (${signal ?? `exit ${code}`}, ${accel}): ${stderr.trim()}\nlast console lines:\n${lastLines(consoleLog)}`, bootSeconds === 0));
      });
    });
    const saved = readText(join(job, 'output.log'));
    if (saved.length > output.length) {
      console.warn(`[vm] the serial port carried ${output.length} of the ${saved.length} bytes the command printed; using the copy on the shared folder`);
      output = saved;
    }
    return {
      exitCode: exitCode ?? -1,
      output,
      console: readText(consoleLog),
      diskFiles,
      accel,
      bootSeconds,
      totalSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    rmSync(job, { recursive: true, force: true });
    if (!o.workDir) rmSync(work, { recursive: true, force: true });
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function lastLines(path: string, n = 30): string {
  return readText(path).replace(/\r/g, '').trimEnd().split('\n').slice(-n).join('\n');
}

export type Firmware = 'uefi' | 'bios';

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

/** OVMF's code read-only and a fresh copy of its variable store in `dir`, as QEMU flash drives. */
function ovmfArgs(dir: string): string[] {
  const vars = join(dir, 'OVMF_VARS.fd');
  copyFileSync(OVMF_VARS, vars);
  return ['-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,unit=1,file=${vars}`];
}

export interface BootDiskOptions {
  readonly firmware: Firmware;
  /** What to wait for on the serial console; default a login prompt. */
  readonly pattern?: RegExp;
  readonly timeoutMs?: number;
  readonly memoryMiB?: number;
  /** Discard the guest's writes (default true), so one disk image can be booted several times. */
  readonly snapshot?: boolean;
  /** A kernel for the KVM probe (the test image's), when no VM has run in this process yet. */
  readonly probeKernel?: string;
  /** The disk image's format; default raw. */
  readonly format?: 'raw' | 'qcow2';
  /**
   * A screen and a person's input: a display adapter, the monitor (screendumps) and QMP (the
   * PS/2 keyboard's key codes, a USB tablet) on these Unix sockets.
   */
  readonly display?: { readonly vga: 'std' | 'virtio'; readonly monitorSocket: string; readonly qmpSocket: string };
}

/** A booted guest on its serial console. */
export interface BootedVm {
  readonly accel: 'kvm' | 'tcg';
  /** Seconds from starting QEMU to the pattern. */
  readonly bootSeconds: number;
  /** Everything the serial console printed so far, \r removed. */
  transcript(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  send(text: string): void;
  /** Logs in on the console as `user`. */
  login(user: string, password: string): Promise<void>;
  /** Runs a shell command after login; its output and exit status. */
  run(command: string, timeoutMs?: number): Promise<{ output: string; exitCode: number }>;
  /** Kills QEMU and waits for it to go. */
  stop(): Promise<void>;
}

/**
 * A boot whose time to a login prompt is asserted runs QEMU at nice -5 (nice(1) execs it, so every
 * QEMU thread inherits it, and the pid stays QEMU's): when `npm test` runs its two lanes, the other
 * lane's installs and builds yield the CPU to it instead of stretching the figure. Without the right
 * to raise priority, nice(1) warns and runs QEMU at the usual priority.
 */
export function timedBootArgv(qemuArgs: readonly string[]): string[] {
  return ['nice', '-n', '-5', 'qemu-system-x86_64', ...qemuArgs];
}

/**
 * Every other guest (a command run in the VM: the installs, the recovery runs) runs at nice -2: a
 * TCG guest is the slowest part of its test, and a busy machine (a loop on one core, in the check
 * issue 17 asks for) made an install in the guest take 1.76 times as long at the usual priority,
 * while the host-side processes beside it wait on the guest anyway. A timed boot stays above it, so
 * the other lane's guest still yields to a boot whose time is asserted.
 */
export function guestArgv(qemuArgs: readonly string[]): string[] {
  return ['nice', '-n', '-2', 'qemu-system-x86_64', ...qemuArgs];
}

/** Boots a disk image with OVMF or SeaBIOS and waits for `pattern` (a login prompt) on the serial console. */
export async function bootDisk(diskImage: string, o: BootDiskOptions): Promise<BootedVm> {
  const accel = await accelerator(o.probeKernel);
  const tmp = mkdtempSync(join(tmpdir(), 'particle-boot-'));
  const d = o.display;
  const args = [...machineArgs(accel, o.memoryMiB ?? 1024, 2, d ? { vga: d.vga, monitor: `unix:${d.monitorSocket},server=on,wait=off` } : {}), '-serial', 'stdio'];
  if (d) args.push('-qmp', `unix:${d.qmpSocket},server=on,wait=off`, '-device', 'qemu-xhci,id=xhci', '-device', 'usb-tablet,bus=xhci.0');
  if (o.firmware === 'uefi') args.push(...ovmfArgs(tmp));
  args.push('-drive', `file=${diskImage},if=virtio,format=${o.format ?? 'raw'},cache=unsafe${o.snapshot === false ? '' : ',snapshot=on'}`);
  const started = performance.now();
  const child = spawnQemu(args, { timed: true });
  let text = '';
  let stderr = '';
  let exited = false;
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    text += d.replace(/\r/g, '');
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const gone = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      rmSync(tmp, { recursive: true, force: true });
      for (const w of waiters) w();
      resolve();
    }),
  );
  let from = 0;
  const waitFor = (pattern: RegExp, timeoutMs = o.timeoutMs ?? 120_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const re = new RegExp(pattern.source, pattern.flags.replace('g', ''));
        const m = re.exec(text.slice(from));
        if (m) {
          from += m.index + m[0].length;
          cleanup();
          resolve(m);
        } else if (exited) {
          cleanup();
          reject(new VmError(`QEMU exited before ${pattern} appeared: ${stderr.trim()}\n${tail(text)}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new VmError(`${pattern} did not appear within ${timeoutMs / 1000} s (${o.firmware}, ${accel}); last console lines:\n${tail(text)}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  const vm: BootedVm = {
    accel,
    bootSeconds: 0,
    transcript: () => text,
    waitFor,
    send: (s) => child.stdin!.write(s),
    async login(user, password) {
      vm.send('\n');
      await waitFor(/login: $/m, 60_000);
      vm.send(`${user}\n`);
      await waitFor(/Password: ?$/m, 30_000);
      vm.send(`${password}\n`);
      await waitFor(/[#$] $/m, 60_000);
      // A plain prompt and no bracketed-paste or colour codes around what commands print.
      vm.send("export TERM=dumb PS1='$ '; stty cols 1000 -echoctl; bind 'set enable-bracketed-paste off' 2>/dev/null\n");
      await waitFor(/\$ $/m, 30_000);
    },
    async run(command, timeoutMs = 60_000) {
      const marker = `__RC_${Math.random().toString(36).slice(2, 8)}__`;
      const start = text.length;
      vm.send(`${command}; echo ${marker}$?\n`);
      const m = await waitFor(new RegExp(`${marker}(\\d+)`), timeoutMs);
      const all = text.slice(start);
      // The output starts after the echo of the command line (which holds the marker before "$?").
      // The line can be echoed twice (the tty echoes typed-ahead input, then readline redraws it),
      // so the last echo counts; the output itself only ever holds the marker before digits.
      const echoed = all.lastIndexOf(`${marker}$?`);
      const afterEcho = all.indexOf('\n', echoed === -1 ? 0 : echoed) + 1;
      const body = all.slice(afterEcho, all.lastIndexOf(`${marker}${m[1]}`));
      return { output: stripAnsi(body), exitCode: Number(m[1]) };
    },
    async stop() {
      if (!exited) child.kill('SIGKILL');
      await gone;
    },
  };
  try {
    await waitFor(o.pattern ?? /login: $/m);
  } catch (e) {
    await vm.stop();
    throw e;
  }
  return Object.assign(vm, { bootSeconds: (performance.now() - started) / 1000 });
}

/** Removes terminal control sequences (colours, bracketed paste) from console text. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

function tail(text: string, n = 30): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
