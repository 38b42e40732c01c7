import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineClient } from './line-client';

/** A `particle-installer service --stdio` child, as the recovery tests start, kill and start again. */
export interface ServiceChild {
  readonly child: ChildProcess;
  readonly client: LineClient;
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `service --stdio --mode test --run-root RUN_ROOT` with `engine` (the bundle, or tsx and the
 * sources) in `cwd`, with `env`; its stderr is kept for assertions.
 */
export function startServiceChild(engine: readonly string[], runRoot: string, cwd: string, env: NodeJS.ProcessEnv): ServiceChild {
  const child = spawn(process.execPath, [...engine, 'service', '--stdio', '--mode', 'test', '--run-root', runRoot], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return { child, client: new LineClient(child.stdout!, child.stdin!), stderr: () => err, exited };
}

/** The step → disk-state table of docs/recovery.md, which the recovery tests check disks against. */
export function documentedStates(repo: string): Map<string, string> {
  const text = readFileSync(join(repo, 'docs/recovery.md'), 'utf8');
  return new Map([...text.matchAll(/^\| `([a-z-]+)` \| ([a-z]+) \|/gm)].map((m) => [m[1]!, m[2]!] as const));
}
