import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM } from '../e2e/browser';
import { ociImageUnavailable } from '../support/oci-test-image';
import { ocrUnavailable } from './ocr';
import { vmUnavailable } from '../vm/image';
import { OVMF_CODE, OVMF_VARS } from '../vm/qemu';
import { parseVariant, variantName, type Variant } from './args';
import { obtainIso, REPO, type ObtainIsoOptions } from './iso';
import { formatSummary, type QaReport, type VariantReport } from './report';
import { runVariant } from './run';

/**
 * The live-ISO QA harness (`npm run qa`, test/vm/live-iso.test.ts): get the ISO, then run each
 * variant (interactive through the wizard, or unattended from an answer file; UEFI or BIOS; CD or
 * USB) and report figures and PASS/FAIL. Artifacts in test-results/qa/<variant>/.
 */

export { formatSummary, parseVariant, variantName, type QaReport, type Variant, type VariantReport };
export { obtainIso } from './iso';
export { runVariant } from './run';

/** The kiosk on the standard VGA with BIOS, a remote install with UEFI on virtio-gpu, unattended with BIOS. */
export const DEFAULT_VARIANTS = ['interactive-bios-std', 'remote-uefi', 'unattended-bios'] as const;
export const QA_OUT = join(REPO, 'test-results/qa');

/** Why the QA cannot run here, or null. `building`: the ISO is to be built (not given). */
export function qaUnavailable(variants: readonly Variant[], building: boolean): string | null {
  // The installed disk is booted with test/vm's bootDisk, which needs the VM level (root, QEMU, mmdebstrap).
  const vm = vmUnavailable();
  if (vm) return vm;
  if (building) {
    const oci = ociImageUnavailable();
    if (oci) return oci;
  }
  if (variants.some((v) => v.mode === 'interactive')) {
    const ocr = ocrUnavailable();
    if (ocr) return ocr;
  }
  if (variants.some((v) => v.mode === 'remote') && !existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install chromium)`;
  if (variants.some((v) => v.firmware === 'uefi') && !(existsSync(OVMF_CODE) && existsSync(OVMF_VARS))) return `OVMF (${OVMF_CODE}) is missing (apt-get install ovmf)`;
  return null;
}

export interface QaOptions extends ObtainIsoOptions {
  readonly variants: readonly Variant[];
  readonly outRoot?: string;
  readonly keepTarget?: boolean;
}

/** Gets the ISO, runs the variants one after the other, writes OUT/report.json; never throws for a failed variant. */
export async function runQa(o: QaOptions): Promise<QaReport> {
  const outRoot = o.outRoot ?? QA_OUT;
  mkdirSync(outRoot, { recursive: true });
  const log = o.log ?? ((l: string) => console.log(`[qa] ${l}`));
  const variants: VariantReport[] = [];
  let report: QaReport;
  try {
    // One ISO per embedded image the variants ask for: the oci-rootfs one (given, reused or built),
    // and the bootc one (always built).
    let iso: Awaited<ReturnType<typeof obtainIso>> | null = null;
    for (const image of ['oci-rootfs', 'bootc'] as const) {
      const these = o.variants.filter((v) => v.image === image);
      if (these.length === 0) continue;
      const got = await obtainIso({ ...o, image, ...(iso?.how === 'built' ? { buildApp: false } : {}), log });
      iso ??= got;
      log(`ISO: ${got.path} (${got.how}, ${(got.bytes / 1024 ** 2).toFixed(1)} MiB)`);
      for (const v of these) variants.push(await runVariant(v, { iso: got, outRoot, log, keepTarget: o.keepTarget }));
    }
    report = { iso, variants };
  } catch (e) {
    // No ISO: every variant fails with the reason.
    const error = `no ISO: ${(e as Error).message}`;
    for (const v of o.variants.slice(variants.length)) {
      variants.push({ variant: variantName(v), mode: v.mode, firmware: v.firmware, medium: v.medium, accel: null, passed: false, error, seconds: {}, expectedHostname: '', images: [], artifacts: join(outRoot, variantName(v)) });
    }
    report = { iso: null, variants };
  }
  writeFileSync(join(outRoot, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
