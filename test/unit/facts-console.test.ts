import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consoleArgs } from '../../src/engine/facts';

// consoleArgs reads a /proc/cmdline under a given root: only well-formed console= words, in order.
const root = mkdtempSync(join(tmpdir(), 'particle-facts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 'proc'));
const withCmdline = (line: string): string[] => {
  writeFileSync(join(root, 'proc/cmdline'), `${line}\n`);
  return consoleArgs(root);
};

describe('consoleArgs', () => {
  it('keeps every console= in order and nothing else', () => {
    expect(withCmdline('BOOT_IMAGE=/live/vmlinuz boot=live console=ttyS0,115200 quiet console=tty0 installer.remote')).toEqual(['console=ttyS0,115200', 'console=tty0']);
  });
  it('drops malformed values rather than passing them to the installed system', () => {
    expect(withCmdline('console= console=ttyS0;reboot console=tty0')).toEqual(['console=tty0']);
  });
  it('is empty without console= or without /proc/cmdline', () => {
    expect(withCmdline('root=/dev/vda1 ro')).toEqual([]);
    expect(consoleArgs(join(root, 'nowhere'))).toEqual([]);
  });
});
