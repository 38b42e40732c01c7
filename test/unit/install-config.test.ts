import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fragmentOrder, installConfigProblems, loadInstallConfig, parsePrintedConfiguration, parseToml, TomlError, type InstallConfigResult } from '../../src/engine/system/install-config';
// The fake bootc's own reader of the same files (test/fakes/lib/config.mjs), written separately
// from bootc's config.rs: the two must agree on every corpus below.
import { loadConfig as fakeLoadConfig } from '../fakes/lib/config.mjs';

const work = mkdtempSync(join(tmpdir(), 'particle-install-config-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const files = (o: Record<string, string>): Map<string, string> => new Map(Object.entries(o));
const read = (o: Record<string, string>, arch = 'x86_64'): InstallConfigResult => loadInstallConfig(files(o), arch);
const config = (r: InstallConfigResult) => {
  if (r.kind !== 'read') throw new Error(`expected a read config, got ${JSON.stringify(r)}`);
  return r.config;
};

describe('the TOML reader', () => {
  it('reads tables, dotted keys, quoted keys, strings with escapes, booleans, integers and multi-line arrays, with comments', () => {
    const doc = parseToml(
      '# comment\n[install]\nroot-fs-type = "xfs" # trailing\nkargs = [\n  "console=ttyS0",\n  \'quiet\', # inside\n]\n"discoverable-partitions" = true\nfilesystem.root.type = "btrfs"\n[install.bootupd]\nskip-boot-uuid = false\nn = 1_000\ns = "a\\tb\\u00e9"\n',
    );
    expect(doc).toEqual({
      install: { 'root-fs-type': 'xfs', kargs: ['console=ttyS0', 'quiet'], 'discoverable-partitions': true, filesystem: { root: { type: 'btrfs' } }, bootupd: { 'skip-boot-uuid': false, n: 1000, s: 'a\tbé' } },
    });
  });

  it('refuses what TOML refuses: a key twice, a table twice, a value after a value, an unterminated string (with the line)', () => {
    expect(() => parseToml('[install]\na = "1"\na = "2"\n')).toThrow(/line 3: key a defined twice/);
    expect(() => parseToml('[install]\n[install]\n')).toThrow(/line 2: table \[install\] defined twice/);
    expect(() => parseToml('a = "1" b = 2\n')).toThrow(/line 1: expected the end of the line/);
    expect(() => parseToml('a = "1\n')).toThrow(/unterminated string/);
    expect(() => parseToml('a = 1979-05-27\n')).toThrow(TomlError);
  });
});

describe("bootc's install config, merged as config.rs merges it", () => {
  it('no fragment: no config (bootc then needs --filesystem for to-disk)', () => {
    expect(config(read({}))).toBeNull();
    expect(config(read({ 'usr/lib/bootc/install/00-empty.toml': '# nothing\n' }))).toBeNull();
  });

  it('orders fragments by file name; a later base directory replaces a file of the same name; dotfiles and other extensions are ignored', () => {
    expect(
      fragmentOrder(['etc/bootc/install/10-b.toml', 'usr/lib/bootc/install/10-b.toml', 'usr/lib/bootc/install/20-a.toml', 'usr/lib/bootc/install/05-z.toml', 'usr/lib/bootc/install/.hidden.toml', 'usr/lib/bootc/install/x.conf', 'run/bootc/install/sub/1.toml']),
    ).toEqual(['usr/lib/bootc/install/05-z.toml', 'etc/bootc/install/10-b.toml', 'usr/lib/bootc/install/20-a.toml']);
    const c = config(
      read({
        'usr/lib/bootc/install/00-base.toml': '[install]\nroot-fs-type = "xfs"\nkargs = ["a"]\n',
        'usr/lib/bootc/install/50-mid.toml': '[install]\nroot-fs-type = "ext4"\nkargs = ["b"]\n',
        'etc/bootc/install/50-mid.toml': '[install]\nkargs = ["c"]\n',
      }),
    );
    // /etc's 50-mid.toml replaced /usr/lib's: ext4 never applied, its karg "b" neither.
    expect(c?.rootFsType).toBe('xfs');
    expect(c?.kargs).toEqual(['a', 'c']);
  });

  it('filesystem.root.type wins over root-fs-type; block defaults to direct once any config exists', () => {
    const c = config(read({ 'usr/lib/bootc/install/00.toml': '[install]\nroot-fs-type = "xfs"\n[install.filesystem.root]\ntype = "btrfs"\n' }));
    expect(c?.rootFsType).toBe('btrfs');
    expect(c?.block).toEqual(['direct']);
  });

  it('a fragment for another architecture is skipped, the first one included', () => {
    const fragments = {
      'usr/lib/bootc/install/00-arm.toml': '[install]\nmatch-architectures = ["aarch64"]\nroot-fs-type = "ext4"\n',
      'usr/lib/bootc/install/10-all.toml': '[install]\nkargs = ["x"]\n',
      'usr/lib/bootc/install/20-x86.toml': '[install]\nmatch-architectures = ["x86_64"]\nroot-fs-type = "xfs"\n',
    };
    expect(config(read(fragments, 'x86_64'))).toMatchObject({ rootFsType: 'xfs', kargs: ['x'] });
    expect(config(read(fragments, 'aarch64'))).toMatchObject({ rootFsType: 'ext4', kargs: ['x'] });
  });

  it('what bootc refuses is named with its file: an unknown key, a value bootc does not know, a wrong type', () => {
    expect(read({ 'usr/lib/bootc/install/00.toml': '[install]\nroot-fs = "xfs"\n' })).toEqual({ kind: 'invalid', file: '/usr/lib/bootc/install/00.toml', problem: 'unknown key install.root-fs' });
    expect(read({ 'usr/lib/bootc/install/00.toml': '[install]\nroot-fs-type = "zfs"\n' })).toMatchObject({ kind: 'invalid', problem: 'install.root-fs-type is "zfs"; bootc accepts xfs, ext4, btrfs' });
    expect(read({ 'usr/lib/bootc/install/00.toml': '[install]\nkargs = "quiet"\n' })).toMatchObject({ kind: 'invalid', problem: 'install.kargs must be a list of strings' });
    expect(read({ 'usr/lib/bootc/install/00.toml': '[other]\n' })).toMatchObject({ kind: 'invalid', problem: 'unknown key other' });
    // [install.ostree] is not deny_unknown_fields: its unknown keys only make bootc warn.
    expect(read({ 'usr/lib/bootc/install/00.toml': '[install.ostree]\nsomething-new = "x"\n' })).toMatchObject({ kind: 'read' });
  });

  it('TOML this reader does not take is reported as unread, never as wrong', () => {
    expect(read({ 'usr/lib/bootc/install/00.toml': '[install]\nkargs = """\nx"""\n' })).toMatchObject({ kind: 'unread' });
  });

  it("agrees with the fake bootc's separate reader (test/fakes/lib/config.mjs) on every corpus", () => {
    const corpora: Record<string, string>[] = [
      { 'usr/lib/bootc/install/00.toml': '[install]\nroot-fs-type = "xfs"\n' },
      { 'usr/lib/bootc/install/00.toml': '[install.filesystem.root]\ntype = "ext4"\n', 'etc/bootc/install/90.toml': '[install]\nblock = ["tpm2-luks", "direct"]\nkargs = ["k1"]\n' },
      { 'usr/lib/bootc/install/00.toml': '[install]\nmatch-architectures = ["aarch64"]\nroot-fs-type = "btrfs"\n', 'usr/lib/bootc/install/10.toml': '[install]\nroot-fs-type = "ext4"\nkargs = ["a"]\n' },
      { 'usr/lib/bootc/install/10.toml': '[install]\nroot-fs-type = "ext4"\n', 'run/bootc/install/10.toml': '[install]\nroot-fs-type = "btrfs"\n' },
    ];
    for (const corpus of corpora) {
      const root = {
        list: (dir: string) => {
          const names = Object.keys(corpus).filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1));
          return names.length > 0 ? names : null;
        },
        read: (p: string) => corpus[p] ?? null,
      };
      const fake = fakeLoadConfig(root) as { 'root-fs-type'?: string; block?: string[]; kargs?: string[] } | null;
      const ours = config(loadInstallConfig(files(corpus), process.arch === 'arm64' ? 'aarch64' : 'x86_64'));
      expect({ fs: ours?.rootFsType ?? null, block: ours?.block ?? null, kargs: ours?.kargs.length ? ours.kargs : null }).toEqual({ fs: fake?.['root-fs-type'] ?? null, block: fake?.block ?? null, kargs: fake?.kargs ?? null });
    }
  });

  it("reads bootc's own JSON (print-configuration --all) the same way", () => {
    const c = parsePrintedConfiguration('{"block":["tpm2-luks"],"filesystem":{"root":{"type":"ext4"}},"kargs":["quiet"],"root-fs-type":"ext4","bootloader":"none"}');
    expect(c).toMatchObject({ rootFsType: 'ext4', block: ['tpm2-luks'], kargs: ['quiet'], bootloader: 'none' });
  });
});

describe('what the config means for the chosen layout', () => {
  const ok = (o: Record<string, string>) => read(o);
  it("to-disk with a block setup the image does not list is refused, naming the image's files and the ones it allows", () => {
    const r = ok({ 'usr/lib/bootc/install/00.toml': '[install]\nblock = ["tpm2-luks"]\nroot-fs-type = "xfs"\n' });
    const p = installConfigProblems(r, { image: 'quay.io/x/y', toDisk: { blockSetup: 'direct' } });
    expect(p).toHaveLength(1);
    expect(p[0]!.what).toBe('quay.io/x/y allows only the block setup tpm2-luks in its install config (/usr/lib/bootc/install/00.toml), not direct');
    expect(installConfigProblems(r, { image: 'i', toDisk: { blockSetup: 'tpm2-luks' } })).toEqual([]);
    // to-filesystem: the installer laid the disk out; block is to-disk's alone.
    expect(installConfigProblems(r, { image: 'i', toDisk: null })).toEqual([]);
  });

  it('bootloader = "none" is refused (the disk would not start); an invalid config is refused; an unread one is not', () => {
    expect(installConfigProblems(ok({ 'usr/lib/bootc/install/00.toml': '[install]\nbootloader = "none"\n' }), { image: 'i', toDisk: null })[0]?.what).toMatch(/bootloader = "none"/);
    expect(installConfigProblems(ok({ 'usr/lib/bootc/install/00.toml': '[install]\nbogus = 1\n' }), { image: 'i', toDisk: null })[0]?.what).toBe('bootc would refuse the install config of i: /usr/lib/bootc/install/00.toml has unknown key install.bogus');
    expect(installConfigProblems({ kind: 'unread', why: 'x' }, { image: 'i', toDisk: { blockSetup: 'direct' } })).toEqual([]);
  });
});
