import { chmod, rename, rm, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import type { InstallPlan } from '../../shared/install';
import { redact } from '../exec';
import type { InstallLog } from './log';
import { scrubSecrets } from './scrub';

/**
 * The bug-report bundle: one .tar.gz with the install log, the plan, the disk listing, the
 * answer file and the machine's facts. People attach it to public issues, so every key named password or passphrase is
 * masked and every known secret value is replaced wherever it appears. Password hashes stay:
 * they are not secrets and help tell a wrong hash from a wrong password.
 *
 * The tar is written here (ustar, five small regular files) rather than by running tar(1):
 * no temp directory to clean up, nothing to parse, and the bytes never touch the disk unscrubbed.
 */

export interface LogBundleParts {
  /** The install log, or anything that renders one (a log saved by an earlier process). */
  readonly log: Pick<InstallLog, 'toText'>;
  readonly plan: InstallPlan | null;
  readonly lsblk: unknown;
  readonly answerFile: unknown;
  /** The machine's vendor, model, memory, graphics and network interfaces (machine.ts), or why not. */
  readonly machine?: unknown;
  /** Secret values (passwords, passphrases, tokens) to remove from everything. */
  readonly secrets: readonly string[];
}

export const BUNDLE_FILES = ['install.log', 'plan.json', 'lsblk.json', 'answer-file.json', 'machine.json'] as const;

export async function writeLogBundle(out: string, parts: LogBundleParts, now: () => number = Date.now): Promise<void> {
  // Longest first, so a secret containing another is replaced whole.
  const secrets = [...parts.secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  const clean = (s: string): string => redact(s, secrets);
  const json = (value: unknown): string => `${JSON.stringify(scrubSecrets(value ?? null, clean), null, 2)}\n`;
  const files: Record<(typeof BUNDLE_FILES)[number], string> = {
    'install.log': clean(parts.log.toText()),
    'plan.json': json(parts.plan),
    'lsblk.json': json(parts.lsblk),
    'answer-file.json': json(parts.answerFile),
    'machine.json': json(parts.machine ?? null),
  };
  const mtime = Math.floor(now() / 1000);
  const tar = Buffer.concat([...BUNDLE_FILES.map((name) => tarEntry(name, Buffer.from(files[name], 'utf8'), mtime)), Buffer.alloc(1024)]);
  const data = gzipSync(tar);

  // Written beside the target and renamed, so a half-written bundle is never mistaken for one.
  const tmp = `${out}.partial`;
  try {
    await writeFile(tmp, data, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

const BLOCK = 512;

/** One ustar header plus the file's data padded to whole blocks (POSIX.1-1988 layout). */
export function tarEntry(name: string, data: Buffer, mtime: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name too long: ${name}`);
  const header = Buffer.alloc(BLOCK);
  const put = (offset: number, length: number, text: string): void => {
    header.write(text, offset, length, 'utf8');
  };
  const octal = (offset: number, length: number, value: number): void => put(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  put(0, 100, name);
  octal(100, 8, 0o600);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, data.length);
  octal(136, 12, mtime);
  header.fill(' ', 148, 156); // the checksum is computed with its own field as spaces
  put(156, 1, '0');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  put(265, 32, 'root');
  put(297, 32, 'root');
  let sum = 0;
  for (const byte of header) sum += byte;
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padding = (BLOCK - (data.length % BLOCK)) % BLOCK;
  return Buffer.concat([header, data, Buffer.alloc(padding)]);
}
