import type { TarEntry } from '../../src/engine/deploy/oci/tar-headers';
import { TarStreamParser } from '../../src/engine/deploy/oci/tar-stream';

/** Feeds `data` in pieces of `size` bytes (1 = byte by byte) and returns what the parser saw. */
export function parse(data: Buffer, size = data.length): TarEntry[] {
  const seen: TarEntry[] = [];
  const p = new TarStreamParser((e) => seen.push(e));
  for (let i = 0; i < data.length; i += size) p.push(data.subarray(i, i + size));
  p.end();
  return seen;
}
export const paths = (es: TarEntry[]) => es.map((e) => e.path);
