import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { mountsUnder } from './mounts';
import { attachLoop, ensurePartitionNode, run, sparseFile, tryRun } from './loop';
import type { LineClient, Reply } from './line-client';
import type { ServiceChild } from './service-child';

const GiB = 1024 ** 3;

/**
 * What a recovery test holds: its scratch folder, the loop devices it attached and the service
 * children it started. `release` gives all of it back, also after a failure.
 */
export class RecoveryScratch {
  readonly loops: string[] = [];
  readonly children: ChildProcess[] = [];

  constructor(readonly dir: string) {}

  static create(prefix: string): RecoveryScratch {
    return new RecoveryScratch(mkdtempSync(join(tmpdir(), prefix)));
  }

  /** A 20 GiB sparse disk with a previous life: an MBR table and an ext4 filesystem. */
  async usedDisk(name: string): Promise<string> {
    const file = join(this.dir, `${name}.img`);
    sparseFile(file, 20 * GiB);
    const dev = attachLoop(file);
    this.loops.push(dev);
    run(['sfdisk', '--quiet', dev], 'label: dos\n,,L\n');
    run(['mkfs.ext4', '-q', '-F', await ensurePartitionNode(dev, 1)]);
    return dev;
  }

  /** Ends a service in order (its stdin closed) and expects it to exit 0. */
  static async stop(svc: ServiceChild): Promise<void> {
    svc.child.stdin!.end();
    const { code } = await svc.exited;
    expect(code, svc.stderr()).toBe(0);
  }

  /** Kills what still runs, unmounts what is mounted below the folder, detaches the loops, removes the folder. */
  release(before: () => void = () => {}): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    before();
    for (const m of mountsUnder(this.dir).reverse()) tryRun(['umount', '--lazy', m]);
    for (const l of this.loops) {
      tryRun(['partx', '--delete', l]);
      tryRun(['losetup', '--detach', l]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts the planned install on a service and waits (at most `timeoutMs`) until it is no longer running; its last state. */
export async function installToEnd(client: LineClient, planId: string, timeoutMs: number, everyMs = 250): Promise<Reply> {
  const started = await client.call('startInstall', { planId });
  expect(started.error, JSON.stringify(started.error)).toBeUndefined();
  const done = Date.now() + timeoutMs;
  let state: Reply = {};
  while (Date.now() < done) {
    state = (await client.call('getInstallState', {})).result;
    if (state.phase !== 'running' && state.phase !== 'cancelling') break;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return state;
}
