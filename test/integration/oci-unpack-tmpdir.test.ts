import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OciError, unpackImage, type OciSource } from '../../src/engine/deploy/oci';
import { writeOciLayout, type EntrySpec, type ImageSpec, type LayerSpec } from '../support/oci-build';

// The unpacker against a plain directory (no root, no loop device): refusals and the path guard.
// Entries belong to the current user, so tar's --same-owner works unprivileged too.
const dir = mkdtempSync(join(tmpdir(), 'oci-unpack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
let n = 0;

function image(layers: LayerSpec[], extra: Partial<ImageSpec> = {}) {
  const root = join(dir, `case-${n++}`);
  const layout = join(root, 'layout');
  const target = join(root, 'target');
  const outside = join(root, 'outside');
  mkdirSync(target, { recursive: true });
  mkdirSync(outside);
  const mine = (es: readonly EntrySpec[] | undefined) => es?.map((e) => ({ ...me, ...e }));
  const built = writeOciLayout(layout, { layers: layers.map((l) => ({ ...l, entries: mine(l.entries) })), ...extra });
  const source: OciSource = { transport: 'oci', path: layout };
  const blob = (i: number) => join(layout, 'blobs', 'sha256', built.layers[i]!.digest.slice(7));
  return { built, source, target, outside, blob, unpack: () => unpackImage({ source, target }) };
}

async function refusal(p: Promise<unknown>): Promise<OciError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(OciError);
  return e as OciError;
}

const files = (n: number): EntrySpec[] => Array.from({ length: n }, (_, i) => ({ type: 'file', path: `data/f${i}`, content: `file ${i} `.repeat(50 + i) }));

describe('verification while streaming', () => {
  it.each(['gzip', 'zstd', 'none'] as const)('refuses a %s layer with one byte changed, naming the digests', async (compression) => {
    const t = image([{ entries: files(200), compression }]);
    const blob = readFileSync(t.blob(0));
    blob[Math.floor(blob.length / 2)]! ^= 0x01;
    writeFileSync(t.blob(0), blob);
    const e = await refusal(t.unpack());
    const digest = t.built.layers[0]!.digest;
    expect(e.message).toContain(`Layer ${digest} does not match its digest: expected ${digest}, got sha256:`);
    expect(e.hint).toMatch(/corrupt.*download or copy it again/);
  });

  it('refuses a layer whose tar does not match the diff_id in the config', async () => {
    const wrong = `sha256:${'0'.repeat(64)}`;
    const t = image([{ entries: files(3) }], { diffIds: [wrong] });
    expect((await refusal(t.unpack())).message).toMatch(new RegExp(`does not match its diff_id: expected ${wrong}, got sha256:[0-9a-f]{64}`));
  });

  it('refuses a layer that is not tar, and reports a failing tar with its command and stderr', async () => {
    const t = image([{ tar: Buffer.alloc(4096, 0x41) }]);
    expect((await refusal(t.unpack())).message).toMatch(/not a valid tar stream/);
    const u = image([{ entries: [{ type: 'hardlink', path: 'link', target: 'no-such-file' }] }]);
    const e = await refusal(u.unpack());
    expect(e.message).toMatch(/tar failed to unpack layer sha256:[0-9a-f]{64}/);
    expect(e.command?.slice(0, 3)).toEqual(['tar', '--extract', '--file=-']);
    expect(e.stderrTail).toMatch(/Cannot hard link/);
    const v = image([{ entries: files(1) }]);
    expect((await refusal(unpackImage({ source: v.source, target: v.target, tar: '/nonexistent/tar' }))).message).toMatch(/Cannot run \/nonexistent\/tar: it is not installed/);
  });
});

describe('progress', () => {
  it('reports compressed bytes per layer, never backwards, ending at the total', async () => {
    const t = image([{ entries: files(50) }, { entries: files(20), compression: 'zstd' }]);
    const seen: { bytesDone: number; bytesTotal: number; layer: number; layers: number }[] = [];
    const r = await unpackImage({ source: t.source, target: t.target, onProgress: (p) => seen.push(p) });
    const total = t.built.layers.reduce((s, l) => s + l.blob.length, 0);
    expect(r.compressedBytes).toBe(total);
    expect(r.uncompressedBytes).toBe(t.built.layers.reduce((s, l) => s + l.tar.length, 0));
    expect(seen.at(-1)).toEqual({ bytesDone: total, bytesTotal: total, layer: 2, layers: 2 });
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.bytesDone).toBeGreaterThanOrEqual(seen[i - 1]!.bytesDone);
    expect(seen.length).toBeLessThanOrEqual(3); // throttled: a fast unpack reports little beyond the final call
  });

  it('rejects at once with an AbortError when already cancelled', async () => {
    const t = image([{ entries: files(1) }]);
    const e = await unpackImage({ source: t.source, target: t.target, signal: AbortSignal.abort() }).catch((x: unknown) => x);
    expect((e as Error).name).toBe('AbortError');
  });
});

describe('the path guard', () => {
  it('refuses ".." names before tar sees them, and writes nothing outside', async () => {
    const t = image([{ entries: [{ type: 'file', path: 'ok', content: 'x' }, { type: 'file', path: '../outside/escaped', content: 'x' }] }]);
    expect((await refusal(t.unpack())).message).toMatch(/"..\/outside\/escaped" that points outside the target/);
    expect(readdirSync(t.outside)).toEqual([]);
  });

  it('puts absolute names under the target', async () => {
    const t = image([{ entries: [{ type: 'file', path: '/etc/abs', content: 'x' }] }]);
    await t.unpack();
    expect(readFileSync(join(t.target, 'etc/abs'), 'utf8')).toBe('x');
  });

  it('replaces a lower layer symlink with a directory instead of writing through it', async () => {
    for (const withDirEntry of [false, true]) {
      const t = image([
        { entries: [] },
        { entries: [...(withDirEntry ? [{ type: 'dir', path: 'evil' } as const] : []), { type: 'file', path: 'evil/pwned', content: 'x' }] },
      ]);
      // the symlink goes in as layer 1 would leave it (built here: its target depends on the temp dir)
      const l1 = image([{ entries: [{ type: 'symlink', path: 'evil', target: t.outside }] }]);
      await unpackImage({ source: l1.source, target: t.target });
      expect(lstatSync(join(t.target, 'evil')).isSymbolicLink()).toBe(true);
      await t.unpack();
      expect(readdirSync(t.outside)).toEqual([]);
      expect(lstatSync(join(t.target, 'evil')).isDirectory()).toBe(true);
      expect(readFileSync(join(t.target, 'evil/pwned'), 'utf8')).toBe('x');
    }
  });

  it('refuses entries below a symlink of the same layer, and hard links through a symlink', async () => {
    const t = image([{ entries: [{ type: 'symlink', path: 's', target: 'elsewhere' }, { type: 'file', path: 's/x', content: 'x' }] }]);
    expect((await refusal(t.unpack())).message).toMatch(/below s, which the same layer makes a non-directory/);
    const u = image([{ entries: [{ type: 'symlink', path: 'etc', target: '/etc' }] }, { entries: [{ type: 'hardlink', path: 'shadow', target: 'etc/shadow' }] }]);
    expect((await refusal(u.unpack())).message).toMatch(/hard link through etc, which is not a directory/);
    expect(existsSync(join(u.target, 'shadow'))).toBe(false);
  });

  it('never removes protected paths, even under an opaque root or a whiteout', async () => {
    const t = image([
      { entries: [{ type: 'file', path: 'lower', content: 'x' }] },
      { entries: [{ type: 'opaque', path: '.' }, { type: 'whiteout', path: 'stage' }, { type: 'file', path: 'upper', content: 'y' }] },
    ]);
    mkdirSync(join(t.target, 'stage'));
    writeFileSync(join(t.target, 'stage', 'image.tar'), 'keep');
    await unpackImage({ source: t.source, target: t.target, protect: ['stage'] });
    expect(readdirSync(t.target).sort()).toEqual(['stage', 'upper']);
    expect(readFileSync(join(t.target, 'stage', 'image.tar'), 'utf8')).toBe('keep');
  });

  it('refuses to replace a protected directory with a file', async () => {
    const t = image([{ entries: [{ type: 'file', path: 'stage', content: 'x' }] }]);
    mkdirSync(join(t.target, 'stage'));
    expect((await refusal(unpackImage({ source: t.source, target: t.target, protect: ['/stage/'] }))).message).toMatch(/replaces stage.*protected/);
    expect((await refusal(unpackImage({ source: t.source, target: t.target, protect: ['../elsewhere'] }))).message).toMatch(/protected path "..\/elsewhere" has a ".." part/);
  });
});
