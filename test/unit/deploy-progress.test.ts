import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BootcProgress, bootcStage, parseBootcError, parsePodmanPullLine, parseSize, type BootcUpdate } from '../../src/engine/deploy/progress';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../fixtures');
const read = (dir: string, name: string) => readFileSync(join(fixtures, dir, name), 'utf8');
const lines = (text: string) => text.split('\n').filter(Boolean);

function feed(text: string): BootcUpdate[] {
  const p = new BootcProgress();
  return lines(text).flatMap((l) => p.line(l) ?? []);
}

describe('bootc stage lines', () => {
  const installs = readdirSync(join(fixtures, 'bootc')).filter((f) => f.startsWith('install-'));

  it.each(installs)('%s: fractions never go back and end at 1.0', (name) => {
    const updates = feed(read('bootc', name));
    expect(updates.length).toBeGreaterThan(5);
    for (let i = 1; i < updates.length; i++) expect(updates[i]!.fraction).toBeGreaterThanOrEqual(updates[i - 1]!.fraction);
    const last = updates.at(-1)!;
    expect(last.stage).toBe('complete');
    expect(last.fraction).toBe(1);
    for (const u of updates) expect(u.fraction).toBeLessThanOrEqual(1);
  });

  it('parses the transfer total from "layers needed"', () => {
    expect(feed(read('bootc', 'install-full.stdout.txt')).at(-1)!.totalBytes).toBe(2.2e9);
    // bootc prints sizes in glib's decimal units ("2.0 GB", crates/ostree-ext/src/container/store.rs:445).
    expect(feed(read('bootc', 'install-ssh-keys.stdout.txt')).at(-1)!.totalBytes).toBe(2.0e9);
    expect(feed(read('bootc', 'install-reordered.stdout.txt')).at(-1)!.totalBytes).toBe(700e6);
  });

  it('recognises every documented line and ignores the rest', () => {
    const stages = lines(read('bootc', 'install-ssh-keys.stdout.txt')).map(bootcStage);
    // bootupd's own "Installed: …" lines pass through bootc (bootloader.rs:223-263) and are not stages.
    expect(stages).toEqual(['image', 'digest', 'init', 'layers', 'deployed', 'injected', 'bootloader', 'bootupd', null, null, 'trim', 'finalize', 'complete']);
    expect(bootcStage('Fetching layers for the deployment')).toBeNull();
    expect(bootcStage('')).toBeNull();
    expect(new BootcProgress().line('something else entirely')).toBeNull();
  });

  it('matches stages by content: a reordered run stays monotonic and skips nothing important', () => {
    const updates = feed(read('bootc', 'install-reordered.stdout.txt'));
    expect(updates.map((u) => u.stage)).toContain('bootloader');
    // "Bootloader: grub" came before the layer transfer; the fraction must not jump back after it.
    const afterBoot = updates.findIndex((u) => u.stage === 'bootloader');
    expect(updates[afterBoot + 1]!.fraction).toBe(updates[afterBoot]!.fraction);
  });

  it('stops where a failed run stopped, below 1.0', () => {
    const updates = feed(read('bootc', 'fail-no-space.stdout.txt'));
    expect(updates.at(-1)!.stage).toBe('layers');
    expect(updates.at(-1)!.fraction).toBeLessThan(0.5);
  });

  it('interpolates inside the layer transfer from bytes written', () => {
    const p = new BootcProgress();
    expect(p.bytesWritten(100)).toBeNull();
    for (const l of lines(read('bootc', 'install-full.stdout.txt')).slice(0, 4)) p.line(l);
    const start = p.current()!.fraction;
    const half = p.bytesWritten(1.1e9)!.fraction;
    const over = p.bytesWritten(9e9)!.fraction;
    expect(half).toBeGreaterThan(start);
    expect(over).toBeGreaterThan(half);
    expect(over).toBeLessThan(0.8);
    expect(p.bytesWritten(0)!.fraction).toBe(over);
    expect(p.line('Deploying container image...done (26 seconds)')!.fraction).toBe(0.8);
    expect(p.bytesWritten(1)).toBeNull();
  });
});

describe('sizes', () => {
  it.each([
    ['2.2 GB', 2.2e9],
    ['845.3 MB', 845.3e6],
    ['12 kB', 12e3],
    ['12 KB', 12e3],
    ['1 TB', 1e12],
    ['512 MiB', 512 * 1024 ** 2],
    ['3 KiB', 3072],
    ['1.5 GiB', 1.5 * 1024 ** 3],
    ['2 TiB', 2 * 1024 ** 4],
    ['17 B', 17],
  ])('%s', (text, bytes) => expect(parseSize(text)).toBe(Math.round(bytes)));

  it('refuses what is not a size', () => {
    expect(parseSize('lots')).toBeNull();
    expect(parseSize('2.2 GX')).toBeNull();
  });
});

describe('podman pull lines', () => {
  it('reads a fresh pull, a cached pull and the image id', () => {
    const events = lines(read('podman', 'pull.stderr.txt')).map(parsePodmanPullLine);
    expect(events[0]).toEqual({ kind: 'trying', ref: 'quay.io/example/os:42' });
    expect(events[1]).toEqual({ kind: 'signatures' });
    expect(events.filter((e) => e?.kind === 'blob')).toHaveLength(3);
    expect(events.at(-2)).toMatchObject({ kind: 'config' });
    expect(events.at(-1)).toEqual({ kind: 'manifest' });
    const cached = lines(read('podman', 'pull-cached.stderr.txt')).map(parsePodmanPullLine);
    expect(cached.filter((e) => e?.kind === 'blob').every((e) => e?.kind === 'blob' && e.skipped)).toBe(true);
    const id = read('podman', 'pull.stdout.txt').trim();
    expect(parsePodmanPullLine(id)).toEqual({ kind: 'image-id', id });
  });

  it('reads load output and errors; ignores noise', () => {
    expect(parsePodmanPullLine(read('podman', 'load.stdout.txt'))).toEqual({ kind: 'loaded', ref: 'quay.io/example/os:42' });
    const err = lines(read('podman', 'pull-manifest-unknown.stderr.txt')).map(parsePodmanPullLine).at(-1);
    expect(err).toMatchObject({ kind: 'error' });
    expect(parsePodmanPullLine('Storing signatures')).toBeNull();
  });
});

describe('bootc errors', () => {
  it.each([
    ['fail-no-space.stderr.txt', /free space|bigger disk/],
    ['fail-manifest-unknown.stderr.txt', /image reference/],
    ['fail-unauthorized.stderr.txt', /log in/i],
    ['fail-esp-not-found.stderr.txt', /EFI system partition/],
    ['fail-bootupd-required.stderr.txt', /bootupd/],
    ['fail-prepare-root.stderr.txt', /prepare-root\.conf/],
    ['fail-empty-boot.stderr.txt', /not empty/],
    ['fail-pid-host.stderr.txt', /--pid=host/],
    ['fail-rootless.stderr.txt', /as root/],
    ['fail-privileged.stderr.txt', /--privileged/],
    ['fail-not-mountpoint.stderr.txt', /mounted/],
    ['fail-non-empty.stderr.txt', /not empty/],
    ['fail-usage.stderr.txt', /does not accept/],
  ])('%s gets a plain-English hint', (name, hint) => {
    const info = parseBootcError(read('bootc', name));
    expect(info).not.toBeNull();
    expect(info!.message).not.toMatch(/^error:/);
    expect(info!.hint).toMatch(hint);
  });

  it('maps podman errors too, and returns null when there is no error', () => {
    expect(parseBootcError(read('podman', 'pull-manifest-unknown.stderr.txt'))!.hint).toMatch(/image reference/);
    expect(parseBootcError(read('podman', 'pull.stderr.txt'))).toBeNull();
    expect(parseBootcError('error: deploy: injected failure')).toEqual({ message: 'deploy: injected failure', hint: null });
  });
});
