import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex } from './digest';
import { INVALID_HINT, OciError } from './errors';
import { archivePath, indexArchive, memberRegion, type Region } from './tar-index';

/** Where an image's files are: a layout directory, or members of an archive read in place. */
export interface Store {
  /** For messages: "the OCI layout /x", "the archive /y.tar". */
  readonly label: string;
  /** A named file at the top (index.json, oci-layout, manifest.json) or, in a docker archive, a relative path; null when absent. */
  file(name: string): Promise<Region | null>;
  /** The blob with this digest; an OciError when it is missing. */
  blob(digest: string, what: string): Promise<Region>;
}

export type StoreSource = { transport: 'oci' | 'oci-archive' | 'docker-archive'; path: string };

export async function openStore(source: StoreSource): Promise<Store> {
  switch (source.transport) {
    case 'oci':
      return layoutStore(source.path);
    case 'oci-archive':
    case 'docker-archive':
      return archiveStore(source.path);
  }
}

async function regularFile(file: string): Promise<Region | null> {
  try {
    const st = await stat(file);
    return st.isFile() ? { file, start: 0, length: st.size } : null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}

function missingBlob(label: string, what: string, digest: string): OciError {
  return new OciError(`The ${what} ${digest} is missing from ${label}.`, 'The image is incomplete: copy or export it again.');
}

async function layoutStore(root: string): Promise<Store> {
  const st = await stat(root).catch(() => null);
  if (!st?.isDirectory()) throw new OciError(`${root} is not a directory (an OCI image layout was expected).`, 'Check the image path, or use the oci-archive transport for a tar file.');
  const label = `the OCI layout ${root}`;
  return {
    label,
    file: async (name) => {
      const rel = archivePath(name);
      return rel ? regularFile(join(root, rel)) : null;
    },
    blob: async (digest, what) => (await regularFile(join(root, 'blobs', 'sha256', digestHex(digest, what)))) ?? Promise.reject(missingBlob(label, what, digest)),
  };
}

async function archiveStore(file: string): Promise<Store> {
  const members = await indexArchive(file);
  const label = `the archive ${file}`;
  return {
    label,
    file: async (name) => {
      if (archivePath(name) === null || name.startsWith('/')) {
        throw new OciError(`${label} refers to "${name.slice(0, 200)}", which is outside the archive.`, INVALID_HINT);
      }
      return memberRegion(file, members, name);
    },
    blob: async (digest, what) => memberRegion(file, members, `blobs/sha256/${digestHex(digest, what)}`) ?? Promise.reject(missingBlob(label, what, digest)),
  };
}

/** Reads a small region (JSON documents) whole; refuses anything larger than `max`. */
export async function readRegion(r: Region, max: number, what: string): Promise<Buffer> {
  if (r.length > max) throw new OciError(`The ${what} is ${r.length} bytes, more than the ${max} allowed.`, INVALID_HINT);
  const fh = await open(r.file, 'r');
  try {
    const buf = Buffer.alloc(r.length);
    let got = 0;
    while (got < r.length) {
      const { bytesRead } = await fh.read(buf, got, r.length - got, r.start + got);
      if (bytesRead === 0) throw new OciError(`The ${what} is truncated in ${r.file}.`, 'The image file is incomplete: copy it again.');
      got += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}
