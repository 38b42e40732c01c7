import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root, from this file's location (test/support/cli.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How tests start the CLI from source: node with tsx's loader, run from the repository root. */
export const CLI_ARGV: readonly string[] = [process.execPath, '--import', 'tsx', 'src/cli/main.ts'];

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts the CLI with `args`; the caller owns the child (and must kill it). */
export function spawnCli(args: readonly string[], options: { input?: 'pipe' | 'ignore'; env?: Record<string, string> } = {}): ChildProcess {
  const [cmd, ...pre] = CLI_ARGV;
  return spawn(cmd!, [...pre, ...args], {
    cwd: REPO_ROOT,
    stdio: [options.input ?? 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
}

/** Runs the CLI to completion and collects its output; killed after `timeoutMs`. */
export function runCli(args: readonly string[], timeoutMs = 30_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
