import { describe, expect, it } from 'vitest';
import { TarFormatError, decodeHeader, decodeNumber, parsePax } from '../../src/engine/deploy/oci/tar-headers';
import { entryBlocks, header, paxRecords, tarBytes, type EntrySpec } from '../support/oci-build';

import { parse, paths } from '../support/tar-parse';

/** Longer than the 100-byte name field, short enough for a ustar prefix split. */
const LONG = `usr/share/${'very-long-directory-name/'.repeat(6)}file-with-a-long-name.txt`;
const SAMPLE: EntrySpec[] = [
  { type: 'dir', path: 'etc' },
  { type: 'file', path: 'etc/hostname', content: 'x'.repeat(1000) },
  { type: 'symlink', path: 'bin', target: 'usr/bin' },
  { type: 'hardlink', path: 'etc/hn', target: 'etc/hostname' },
  { type: 'char', path: 'dev/null', major: 1, minor: 3 },
  { type: 'fifo', path: 'run/fifo' },
  { type: 'file', path: LONG, content: 'long' },
  { type: 'symlink', path: 'deep-link', target: `/${LONG}` },
];

describe('tar header parser', () => {
  it.each(['pax', 'gnu', 'ustar'] as const)('reads every entry type and long names written %s-style', (style) => {
    const data = tarBytes(style === 'ustar' ? SAMPLE.filter((e) => e.path !== 'deep-link') : SAMPLE, style);
    const got = parse(data);
    expect(got.map((e) => [e.type, e.path, e.linkpath])).toEqual(
      (style === 'ustar' ? SAMPLE.filter((e) => e.path !== 'deep-link') : SAMPLE).map((e) => [
        e.type,
        e.type === 'dir' ? `${e.path}/` : e.path,
        e.type === 'symlink' || e.type === 'hardlink' ? e.target : '',
      ]),
    );
    expect(got[1]!.size).toBe(1000);
  });

  it('gives the same entries whatever the chunking (headers straddling chunks are stitched)', () => {
    const data = tarBytes(SAMPLE, 'pax');
    const whole = parse(data);
    for (const size of [1, 7, 511, 512, 513, 4096]) expect(parse(data, size)).toEqual(whole);
  });

  it('applies PAX path and linkpath over the header fields, and ignores other records', () => {
    const recs = paxRecords([
      ['path', 'pax/name'],
      ['linkpath', 'pax/target'],
      ['SCHILY.xattr.security.capability', Buffer.from([1, 0, 0, 2, 0x20, 0, 0, 0])],
      ['mtime', '1.5'],
    ]);
    const data = Buffer.concat([header({ name: 'PaxHeaders/x', typeflag: 'x', size: recs.length }), recs, Buffer.alloc(512 - recs.length), header({ name: 'short', typeflag: '2', linkname: 'l' }), Buffer.alloc(1024)]);
    expect(parse(data)).toEqual([{ path: 'pax/name', linkpath: 'pax/target', type: 'symlink', size: 0 }]);
    expect(parsePax(recs).get('SCHILY.xattr.security.capability')).toHaveLength(8);
  });

  it('uses the PAX size record to skip the payload', () => {
    const recs = paxRecords([['size', '1024']]);
    const data = Buffer.concat([
      header({ name: 'PaxHeaders/big', typeflag: 'x', size: recs.length }),
      recs,
      Buffer.alloc(512 - recs.length),
      header({ name: 'big', typeflag: '0', size: 0 }),
      Buffer.alloc(1024, 0x41),
      header({ name: 'next', typeflag: '0' }),
      Buffer.alloc(1024),
    ]);
    expect(paths(parse(data))).toEqual(['big', 'next']);
  });

  it('joins the ustar prefix and name', () => {
    const data = Buffer.concat([header({ name: 'name.txt', prefix: 'some/prefix', typeflag: '0' }), Buffer.alloc(1024)]);
    expect(paths(parse(data))).toEqual(['some/prefix/name.txt']);
  });

  it('reads base-256 sizes and octal with spaces', () => {
    const b = Buffer.alloc(12);
    b[0] = 0x80;
    b.writeUIntBE(9 * 1024 ** 3, 6, 6);
    expect(decodeNumber(b, 0, 12)).toBe(9 * 1024 ** 3);
    expect(decodeNumber(Buffer.from(' 0000644 \0'), 0, 10)).toBe(0o644);
  });

  it('stops at the first zero block, as GNU tar does', () => {
    const data = Buffer.concat([...entryBlocks({ type: 'file', path: 'a' }), Buffer.alloc(512), ...entryBlocks({ type: 'file', path: 'hidden' }), Buffer.alloc(1024)]);
    expect(paths(parse(data))).toEqual(['a']);
  });

  it('refuses a bad checksum, a truncated stream and a non-tar stream', () => {
    const good = tarBytes([{ type: 'file', path: 'a', content: 'abc' }]);
    const bad = Buffer.from(good);
    bad[0] = 0x62;
    expect(() => parse(bad)).toThrow(/checksum/);
    expect(() => parse(good.subarray(0, 600))).toThrow(/middle of an entry/);
    expect(() => parse(Buffer.alloc(2048, 0x41))).toThrow(TarFormatError);
    expect(() => decodeHeader(Buffer.alloc(512, 0x20))).toThrow(TarFormatError);
  });

  it('reads what GNU tar reads where a header lies about data (hard links never have any)', () => {
    const evil = header({ name: 'evil', typeflag: '0' });
    const link = Buffer.concat([header({ name: 'hl', typeflag: '1', linkname: 'a', size: 512 }), evil, Buffer.alloc(1024)]);
    expect(paths(parse(link))).toEqual(['hl', 'evil']);
    // Data after a symlink, directory or device is not skipped by tar: such a stream is refused.
    for (const typeflag of ['2', '3', '5', '6']) {
      expect(() => parse(Buffer.concat([header({ name: 'x', typeflag, size: 512 }), evil, Buffer.alloc(1024)]))).toThrow(/claims 512 bytes/);
    }
    // A regular file named with a trailing slash is a directory to tar (the BSD convention).
    expect(parse(Buffer.concat([header({ name: 'd/', typeflag: '0' }), Buffer.alloc(1024)]))[0]!.type).toBe('dir');
    expect(() => parse(Buffer.concat([header({ name: 'd/', typeflag: '0', size: 512 }), evil, Buffer.alloc(1024)]))).toThrow(/claims/);
  });

  it('refuses incremental and multi-volume entries, and PAX global records that rename everything', () => {
    expect(() => parse(Buffer.concat([header({ name: 'x', typeflag: 'D' }), Buffer.alloc(1024)]))).toThrow(/unsupported tar entry type 'D'/);
    const g = paxRecords([['path', 'everything']]);
    expect(() => parse(Buffer.concat([header({ name: 'g', typeflag: 'g', size: g.length }), g, Buffer.alloc(512 - g.length), Buffer.alloc(1024)]))).toThrow(/global/);
  });
});
