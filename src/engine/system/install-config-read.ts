import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageRef } from './image-ref';
import { ociArch, splitLayoutReference } from './image-ref';
import { reason, type SystemDeps } from './deps';
import { INSTALL_CONFIG_DIRS, loadInstallConfig, parsePrintedConfiguration, rustArch, type InstallConfigResult } from './install-config';

/**
 * The image's bootc install config, before anything is written:
 * - an OCI layout, OCI archive or docker archive: its layers are read (nothing is unpacked) and the
 *   fragments merged as bootc merges them (install-config.ts);
 * - local container storage: bootc itself prints it, in a throw-away container of the image with no
 *   network (`bootc install print-configuration --all`, cli.rs:343 and install.rs:885-892 at
 *   534c76ea474a356aa288f6767635e579ea2614d5);
 * - a registry: not before the disk is prepared, since the layers are downloaded onto the disk
 *   itself (never into the live system's memory); said so, and bootc then reads it at install.
 */
export async function readInstallConfig(image: ImageRef, deps: Pick<SystemDeps, 'exec' | 'which'>, nodeArch = process.arch): Promise<InstallConfigResult> {
  const arch = rustArch(nodeArch);
  switch (image.transport) {
    case 'oci':
    case 'oci-archive':
    case 'docker-archive': {
      // Reading every layer takes seconds for a big image, and the wizard asks at start, on the
      // Summary and again when the install starts: one read per version of the file (its mtime).
      const key = fileVersion(image);
      const cached = key === null ? undefined : CACHE.get(key);
      if (cached) return cached;
      const result = await readFromLayers({ ...image, transport: image.transport }, arch, nodeArch);
      if (key !== null && result.kind !== 'unread') CACHE.set(key, result);
      return result;
    }
    case 'containers-storage': {
      if (!deps.which('podman')) return { kind: 'unread', why: 'podman is not installed, so the image in local container storage cannot be asked for its install config' };
      try {
        const r = await deps.exec(['podman', 'run', '--rm', '--pull=never', '--network=none', image.reference, 'bootc', 'install', 'print-configuration', '--all'], { timeoutMs: 120_000 });
        return { kind: 'read', config: parsePrintedConfiguration(r.stdout), files: ['bootc install print-configuration --all'] };
      } catch (e) {
        const text = reason(e);
        if (/Parsing|unknown field|unknown variant|invalid type/.test(text)) return { kind: 'invalid', file: 'the image', problem: text.split('\n').slice(-3).join(' ').trim() };
        return { kind: 'unread', why: `bootc install print-configuration failed in a container of the image (${text.split('\n')[0]})` };
      }
    }
    case 'registry':
      return { kind: 'unread', why: 'a registry image is downloaded onto the prepared disk, not into this system\'s memory, so bootc reads its install config at install time' };
  }
}

const CACHE = new Map<string, InstallConfigResult>();

/** The file (an archive) or index.json (a layout) with its size and mtime, or null when it cannot be read. */
function fileVersion(image: ImageRef): string | null {
  try {
    const path = image.transport === 'oci' ? join(splitLayoutReference(image.reference).path, 'index.json') : image.reference;
    const st = statSync(path);
    return `${image.transport}:${image.reference}:${st.size}:${st.mtimeMs}`;
  } catch {
    return null;
  }
}

async function readFromLayers(image: ImageRef & { transport: 'oci' | 'oci-archive' | 'docker-archive' }, arch: string, nodeArch: string): Promise<InstallConfigResult> {
  const { readImageFiles } = await import('../deploy/oci/files');
  const { path, ref } = image.transport === 'docker-archive' ? { path: image.reference, ref: null } : splitLayoutReference(image.reference);
  try {
    const files = await readImageFiles({ transport: image.transport, path, ...(ref !== null ? { ref } : {}) }, ociArch(nodeArch), INSTALL_CONFIG_DIRS);
    return loadInstallConfig(new Map([...files].map(([p, f]) => [p, f.data.toString('utf8')])), arch);
  } catch (e) {
    return { kind: 'unread', why: `the image's layers could not be read for its install config (${reason(e)})` };
  }
}
