// npm run qa: the live ISO under QEMU, as a person would try it. Builds (or reuses) the ISO with the
// test OCI image embedded, then per variant boots it, installs (the wizard through a forwarded port,
// or an answer file given with installer.config=), powers off, boots the installed disk and logs in.
// Artifacts and report.json in test-results/qa/<variant>/; a summary at the end; exit 1 on a failure.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { killAllVms } from '../test/vm/qemu';
import { DEFAULT_VARIANTS, formatSummary, QA_OUT, parseVariant, qaUnavailable, runQa, type Variant } from '../test/qa/index';

const HELP = `Usage: npm run qa -- [options]

Options:
  --iso FILE        Test this ISO as it is (also PARTICLE_QA_ISO=FILE)
  --reuse           Reuse the ISO the last run built (test-results/qa/iso) instead of building
  --no-app-build    Build the ISO from the out/ that is there (skip npm run build)
  --variants LIST   Comma-separated MODE-FIRMWARE[-MEDIUM][-DISPLAY][-bootc]: interactive (the kiosk, driven with the
                    guest's own keyboard and pointer) | remote (a browser on the host through the
                    forwarded port) | unattended, uefi|bios, cd|usb, virtio|std; -bootc: a second ISO
                    (test-results/qa/iso-bootc, always built) embeds the bootc test image, installed
                    through podman and read on the disk (remote variants only)
                    (default ${DEFAULT_VARIANTS.join(',')})
  --medium cd|usb   Medium for variants that do not name one (default cd)
  --out DIR         Artifacts folder (default test-results/qa)
  --keep-target     Keep each installed target disk image (20 GiB sparse) with the artifacts
  -h, --help        Show this help

PARTICLE_VM_ACCEL=tcg|kvm skips the KVM probe.`;

function options(): { variants: Variant[]; iso?: string; reuse: boolean; buildApp: boolean; out?: string; keepTarget: boolean } {
  const { values } = parseArgs({
    options: {
      iso: { type: 'string' },
      reuse: { type: 'boolean', default: false },
      'no-app-build': { type: 'boolean', default: false },
      variants: { type: 'string' },
      medium: { type: 'string' },
      out: { type: 'string' },
      'keep-target': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  if (values.medium !== undefined && values.medium !== 'cd' && values.medium !== 'usb') throw new Error(`--medium must be cd or usb, not "${values.medium}"`);
  const names = (values.variants ?? DEFAULT_VARIANTS.join(',')).split(',').filter((n) => n.trim() !== '');
  const variants = names.map((n) => {
    const v = parseVariant(n);
    return /-(cd|usb)(-|$)/.test(n.trim()) || values.medium === undefined ? v : { ...v, medium: values.medium as 'cd' | 'usb' };
  });
  return { variants, iso: values.iso, reuse: values.reuse, buildApp: !values['no-app-build'], out: values.out, keepTarget: values['keep-target'] };
}

async function main(): Promise<number> {
  let o: ReturnType<typeof options>;
  try {
    o = options();
  } catch (e) {
    console.error(`qa: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const building = !(o.iso ?? process.env.PARTICLE_QA_ISO) && !(o.reuse && existsSync(join(QA_OUT, 'iso/particle-live.iso')));
  const why = qaUnavailable(o.variants, building);
  if (why) {
    console.error(`qa: cannot run here: ${why}`);
    return 2;
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killAllVms();
      process.exit(130);
    });
  }
  const report = await runQa({ variants: o.variants, iso: o.iso, reuse: o.reuse, buildApp: o.buildApp, ...(o.out ? { outRoot: o.out } : {}), keepTarget: o.keepTarget });
  console.log(formatSummary(report));
  for (const v of report.variants.filter((x) => x.error)) console.log(`\n--- ${v.variant} failed ---\n${v.error}`);
  return report.variants.length > 0 && report.variants.every((v) => v.passed) ? 0 : 1;
}

main().then(
  (code) => {
    killAllVms();
    process.exit(code);
  },
  (e: unknown) => {
    killAllVms();
    console.error(e);
    process.exit(1);
  },
);
