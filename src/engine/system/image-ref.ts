import type { AnswerFile } from '../../shared/answer-file';

/** An image as the answer file names it: where it comes from and its reference there. */
export type ImageRef = Pick<AnswerFile['image'], 'reference' | 'transport'>;

/** "DIR[:REF]": the last ":" followed by no "/" starts the reference name, as podman and skopeo read it. */
export function splitLayoutReference(reference: string): { path: string; ref: string | null } {
  const m = /^(.*?)(?::([^/:]+))?$/.exec(reference);
  return { path: m?.[1] ?? reference, ref: m?.[2] ?? null };
}

const OCI_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** Node's architecture name (process.arch) in OCI's naming. */
export function ociArch(nodeArch: string): string {
  return OCI_ARCH[nodeArch] ?? nodeArch;
}
