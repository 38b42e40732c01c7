import { OciError } from './errors';
import { INDEX_TYPES, MANIFEST_TYPES, type Descriptor, type ImageIndex } from './schema';

/** Picking one image manifest out of an index: by ref name, by platform, or the only one. Pure. */

export const REF_ANNOTATION = 'org.opencontainers.image.ref.name';

/** GOARCH for a Node process.arch (the names OCI platforms use). */
export function goArch(nodeArch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };
  return map[nodeArch] ?? nodeArch;
}

const isAttestation = (d: Descriptor): boolean =>
  d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || d.platform?.os === 'unknown';

const describe = (d: Descriptor): string => {
  const ref = d.annotations?.[REF_ANNOTATION];
  const p = d.platform ? `${d.platform.os}/${d.platform.architecture}${d.platform.variant ? `/${d.platform.variant}` : ''}` : null;
  return [ref ? `"${ref}"` : null, p, d.digest.slice(0, 19)].filter(Boolean).join(' ');
};

/**
 * The descriptor to follow from an index: an image manifest or a nested index. `ref` applies at
 * the top level only (nested indexes carry platforms, not names).
 */
export function chooseDescriptor(index: ImageIndex, o: { ref?: string; arch: string; where: string }): Descriptor {
  let candidates = index.manifests.filter((d) => (INDEX_TYPES.includes(d.mediaType) || MANIFEST_TYPES.includes(d.mediaType)) && !isAttestation(d));
  const refs = [...new Set(candidates.map((d) => d.annotations?.[REF_ANNOTATION]).filter((r): r is string => r !== undefined))];
  const listed = refs.length > 0 ? `refs present: ${refs.map((r) => `"${r}"`).join(', ')}` : 'none has a ref name';
  if (candidates.length === 0) {
    const types = [...new Set(index.manifests.map((d) => d.mediaType))].join(', ') || 'nothing';
    throw new OciError(`${o.where} lists no image manifest (it lists ${types}).`, 'Use an OCI image or docker v2 schema 2 image.');
  }
  if (o.ref !== undefined) {
    candidates = candidates.filter((d) => d.annotations?.[REF_ANNOTATION] === o.ref);
    if (candidates.length === 0) throw new OciError(`${o.where} has no image with the ref "${o.ref}" (${listed}).`, 'Use one of the refs present, or leave the ref out when the layout holds one image.');
  }
  if (candidates.length === 1) return candidates[0]!;
  const withPlatform = candidates.filter((d) => d.platform);
  if (withPlatform.length === candidates.length) {
    const mine = withPlatform.filter((d) => d.platform!.os === 'linux' && d.platform!.architecture === o.arch);
    // Several variants for one architecture (arm v6/v7): the first listed, as registries order them.
    if (mine.length > 0) return mine.find((d) => d.platform!.variant === undefined || d.platform!.variant === 'v8') ?? mine[0]!;
    throw new OciError(
      `${o.where} has no image for linux/${o.arch} (it has ${withPlatform.map(describe).join(', ')}).`,
      `Use an image built for ${o.arch}, or pass the architecture of the machine being installed.`,
    );
  }
  throw new OciError(
    `${o.where} holds ${candidates.length} images and none was chosen (${listed}).`,
    refs.length > 0 ? 'Give the ref of the image to install.' : 'Give the layout one image, or tag them with ref names and give one.',
  );
}
