import { makeError } from '../../src/shared/errors';
import { InstallPlanSchema, type InstallPlan, type PlanAction, type PlanStep, type ProgressEvent, type StepId } from '../../src/shared/install';
import { CommandError, redact, type Exec, type ExecOptions } from '../../src/engine/exec';
import { InstallLog, type ExecStreaming, type FsOps, type RunContext } from '../../src/engine/install';

/** The runner's test machine: a plan that touches every kind of action, and a fake machine and clock to run it on (unit and integration tests of runPlan share it). */
export const T0 = Date.UTC(2025, 0, 1);
export const ROOT = '/run/particle/target';
export const DEPLOYMENT = `${ROOT}/ostree/deploy/default/deploy/abc123.0`;
export const STATEROOT_VAR = `${ROOT}/ostree/deploy/default/var`;
export const PASSPHRASE = 'correct horse "battery" staple';
export const TOKEN = 'tok-9f8e7d6c5b4a';

// ---- a hand-written plan, shaped like the planner's --------------------------------------------

export const run = (argv: string[], extra: Omit<Extract<PlanAction, { kind: 'run' }>, 'kind' | 'argv'> = {}): PlanAction => ({ kind: 'run', argv, ...extra });
export const step = (id: StepId, destructive: boolean, resumable: boolean, actions: PlanAction[], weight = 1): PlanStep => ({
  id,
  title: `Doing ${id}`,
  weight,
  destructive,
  resumable,
  actions,
});

export function testPlan(): InstallPlan {
  return InstallPlanSchema.parse({
    id: 'plan-1',
    createdAt: new Date(T0).toISOString(),
    disk: { path: '/dev/vdb', serial: 'S1', wwn: null, size: 64 * 1024 ** 3, byIdPath: null, diskSeq: null, ptUuid: null },
    firmware: 'uefi',
    arch: 'x86_64',
    layout: 'erase',
    partitions: [],
    kernelArgs: [],
    sourceImgref: 'docker://example.org/os:latest',
    targetImgref: null,
    pointOfNoReturn: 1,
    summary: ['Erase /dev/vdb'],
    steps: [
      step('verify-disk', false, false, [run(['blockdev', '--getsize64', '/dev/vdb'])]),
      step('wipe', true, false, [run(['wipefs', '--all', '/dev/vdb'])]),
      step('partition', true, false, [run(['sfdisk', '/dev/vdb'], { stdin: 'label: gpt\n' }), run(['partx', '-u', '/dev/vdb'])], 2),
      step('encrypt', true, false, [
        run(['cryptsetup', 'luksFormat', '--batch-mode', '--key-file', '-', '/dev/vdb3'], { stdinSecret: 'luks-passphrase' }),
        run(['cryptsetup', 'open', '--key-file', '-', '/dev/vdb3', 'root'], { stdinSecret: 'luks-passphrase' }),
      ]),
      step('format', true, false, [run(['mkfs.vfat', '/dev/vdb1']), run(['mkswap', '/dev/vdb2']), run(['mkfs.xfs', '-f', '/dev/mapper/root'])], 4),
      step('mount', false, true, [
        { kind: 'mkdir', path: ROOT, mode: '0755' },
        run(['mount', '/dev/mapper/root', ROOT]),
        { kind: 'mkdir', path: `${ROOT}/boot/efi`, mode: '0755' },
        run(['mount', '/dev/vdb1', `${ROOT}/boot/efi`]),
        run(['swapon', '/dev/vdb2']),
      ]),
      step('deploy', true, false, [run(['podman', 'run', '--rm', 'example.org/os:latest', 'bootc', 'install', 'to-filesystem', '/target'], { timeoutSeconds: 3600 })], 40),
      step('configure', false, true, [
        { kind: 'write', path: '{deployment}/etc/hostname', content: 'ada-laptop\n', mode: '0644' },
        { kind: 'mkdir', path: '{stateroot-var}/home/ada', mode: '0700' },
        { kind: 'symlink', path: '{deployment}/etc/localtime', target: '../usr/share/zoneinfo/Europe/Paris' },
        run(['useradd', '-R', '{deployment}', '-m', 'ada']),
      ], 4),
      step('finalize', false, true, [run(['bootc', 'install', 'finalize', ROOT]), { kind: 'save-log', path: '{stateroot-var}/log/particle-installer/install.log' }], 3),
      step('teardown', false, true, [
        run(['swapoff', '/dev/vdb2']),
        run(['umount', `${ROOT}/boot/efi`]),
        run(['umount', '--recursive', ROOT]),
        run(['cryptsetup', 'close', 'root']),
      ]),
    ],
  });
}

export const indexOf = (plan: InstallPlan, id: StepId): number => plan.steps.findIndex((s) => s.id === id);

// ---- fakes --------------------------------------------------------------------------------------

export interface Call {
  argv: string[];
  input?: string;
  aborted: boolean;
}

/**
 * Plays the machine: commands succeed (advancing the fake clock a second each) and change what the
 * probes report (mount/umount, cryptsetup open/close, swapon/swapoff). A chosen command can fail,
 * with stderr that includes the passphrase unredacted (the runner must not trust exec to redact),
 * or block until its signal aborts.
 */
export class FakeMachine {
  clock = T0;
  readonly calls: Call[] = [];
  readonly mounted = new Set<string>();
  readonly mappers = new Set<string>();
  readonly swaps = new Set<string>();
  readonly files = new Map<string, { content: string; mode: number }>();
  readonly dirs = new Map<string, number>();
  readonly links = new Map<string, string>();
  failOn: ((argv: readonly string[]) => boolean) | null = null;
  /** What a failing command leaves at the end of its stderr. */
  failStderr = `bad key ${PASSPHRASE}`;
  blockOn: ((argv: readonly string[]) => boolean) | null = null;
  /** Called once a blocking command has started, so a test can cancel then. */
  onBlocked: () => void = () => {};
  deployed = false;
  output: ((argv: readonly string[]) => string[]) | null = null;
  /** Fake time between two chunks of output. */
  chunkGapMs = 1;

  readonly exec: Exec = (argv, options = {}) => this.run(argv, options, () => {});
  readonly execStreaming: ExecStreaming = (argv, options) => this.run(argv, options, options.onOutput);

  private async run(argv: readonly string[], options: ExecOptions, onOutput: (chunk: string) => void) {
    const call: Call = { argv: [...argv], ...(options.input === undefined ? {} : { input: options.input }), aborted: false };
    this.calls.push(call);
    const shown = argv.map((a) => redact(a, options.secrets));
    if (this.blockOn?.(argv)) {
      await new Promise<void>((resolve) => {
        if (options.signal?.aborted) resolve();
        options.signal?.addEventListener('abort', () => resolve(), { once: true });
        this.onBlocked();
      });
      call.aborted = true;
      throw new CommandError(makeError('cancelled', `Cancelled while running ${shown[0]}.`, { command: shown }));
    }
    for (const chunk of this.output?.(argv) ?? []) {
      this.clock += this.chunkGapMs;
      onOutput(chunk);
    }
    this.clock += 1000;
    if (this.failOn?.(argv)) {
      throw new CommandError(makeError('command-failed', `${shown[0]} exited with code 1.`, { command: shown, exitCode: 1, stderrTail: redact(this.failStderr, options.secrets) }));
    }
    this.apply(argv);
    return { exitCode: 0, stdout: '', stderr: argv[0] === 'sfdisk' ? `token ${TOKEN} used\n` : '', durationMs: 1000 };
  }

  private apply(argv: readonly string[]): void {
    const args = argv.filter((a) => !a.startsWith('-'));
    const last = args[args.length - 1] ?? '';
    if (argv[0] === 'mount') this.mounted.add(last);
    if (argv[0] === 'umount') for (const m of [...this.mounted]) if (m === last || (argv.includes('--recursive') && m.startsWith(`${last}/`))) this.mounted.delete(m);
    if (argv[0] === 'cryptsetup' && argv.includes('open')) this.mappers.add(last);
    if (argv[0] === 'cryptsetup' && argv.includes('close')) this.mappers.delete(last);
    if (argv[0] === 'swapon') this.swaps.add(last);
    if (argv[0] === 'swapoff') this.swaps.delete(last);
    if (argv[0] === 'podman') this.deployed = true;
  }

  readonly fs: FsOps = {
    writeFile: async (path, content, mode) => void this.files.set(path, { content, mode }),
    symlink: async (target, path) => void this.links.set(path, target),
    mkdir: async (path, mode) => void this.dirs.set(path, mode),
    rm: async (path) => void this.files.delete(path),
    readFile: async (path) => this.files.get(path)?.content ?? null,
    test: async (path, test) => (test === 'exists' ? this.files.has(path) || this.dirs.has(path) : test === 'missing' ? !this.files.has(path) && !this.dirs.has(path) : test === 'writable'),
  };

  argvs(): string[] {
    return this.calls.map((c) => c.argv.join(' '));
  }
}

export interface Harness {
  machine: FakeMachine;
  events: ProgressEvent[];
  eventTimes: number[];
  log: InstallLog;
  controller: AbortController;
  ctx: RunContext;
}

export function harness(extra: Partial<RunContext> = {}): Harness {
  const machine = new FakeMachine();
  const events: ProgressEvent[] = [];
  const eventTimes: number[] = [];
  const log = new InstallLog({ now: () => machine.clock });
  const controller = new AbortController();
  const ctx: RunContext = {
    exec: machine.exec,
    secrets: new Map([
      ['luks-passphrase', PASSPHRASE],
      ['registry-token', TOKEN],
    ]),
    signal: controller.signal,
    emit: (ev) => {
      events.push(ev);
      eventTimes.push(machine.clock);
    },
    log,
    fs: machine.fs,
    now: () => machine.clock,
    targetRoot: ROOT,
    findDeployment: async () => (machine.deployed ? { deployment: DEPLOYMENT, staterootVar: STATEROOT_VAR } : null),
    isMounted: async (p) => machine.mounted.has(p),
    mapperExists: async (n) => machine.mappers.has(n),
    swapActive: async (d) => machine.swaps.has(d),
    ...extra,
  };
  return { machine, events, eventTimes, log, controller, ctx };
}
