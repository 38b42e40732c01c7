import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_VARIANTS, formatSummary, obtainIso, parseVariant, qaUnavailable, runVariant, QA_OUT, type VariantReport } from '../qa/index';
import { BLANK_LIMIT_S, bootToWizard, PROGRESS_STILL_LIMIT_S } from '../qa/kiosk';
import { PRODUCT } from '../qa/wizard';
import { accelerator } from './qemu';
import type { IsoUnderTest } from '../qa/iso';
import { killAllVms } from './qemu';
import { BOOTC_TARGET_IMGREF } from '../support/bootc-test-image';

// The live ISO as a person would try it (the harness behind `npm run qa`, test/qa): boot it in QEMU
// and install through the kiosk on the guest's own screen with the guest's own keyboard and pointer
// (BIOS, standard VGA); choose "with remote access" in GRUB over the serial console and install
// through the wizard in Chromium over the forwarded port (UEFI, virtio-gpu); boot it with
// installer.config= and let it install alone (BIOS); each time power off, boot the installed disk and
// log in.
// PARTICLE_QA_ISO=FILE tests a given ISO; otherwise live-iso/build.sh builds one (cached stages).
const VARIANTS = DEFAULT_VARIANTS.map(parseVariant);
// `npm test` runs the kiosk variant by itself, after every other VM (PARTICLE_QA_PART=kiosk), and the
// remote and unattended variants first, beside the other VM files (PARTICLE_QA_PART=others): see scripts/test-all.mjs.
// Unset, all three run here.
const PART = process.env.PARTICLE_QA_PART ?? 'all';
if (!['all', 'kiosk', 'others'].includes(PART)) throw new Error(`PARTICLE_QA_PART must be kiosk, others or unset, not ${PART}`);
const kioskPart = PART !== 'others';
const otherParts = PART !== 'kiosk';
if (!kioskPart) console.warn('[vm] the kiosk variant is skipped here: PARTICLE_QA_PART=others (npm test runs it by itself afterwards, with no other VM on the cores)');
if (!otherParts) console.warn('[vm] the remote, remote-with-the-bootc-image and unattended variants are skipped here: PARTICLE_QA_PART=kiosk (npm test runs them first, beside the other VM files)');
const why = process.env.PARTICLE_QA_SKIP === '1' ? 'PARTICLE_QA_SKIP=1' : qaUnavailable(VARIANTS, !process.env.PARTICLE_QA_ISO);
if (why) console.warn(`[vm] live ISO QA skipped: ${why}`);
// The whole install driven through the kiosk (keys and clicks on the guest, every page read on its
// screen) runs by default; PARTICLE_QA_KIOSK=0 runs only its first part, the Welcome page on the
// guest's screen after power-on, for a quicker run.
const kioskInstall = process.env.PARTICLE_QA_KIOSK !== '0';
if (!why && kioskPart && kioskInstall) console.warn('[vm] the Welcome-only kiosk boot check is skipped: the install through the kiosk runs, and it boots to the same Welcome page under the same blank-screen limit first (PARTICLE_QA_KIOSK=0 runs the Welcome-only check instead)');
if (!why && kioskPart && !kioskInstall) console.warn('[vm] the install driven through the kiosk is skipped: PARTICLE_QA_KIOSK=0 (only the Welcome page on the guest\'s screen is checked)');

const MIN = 60_000;

describe.skipIf(why !== null)('the live ISO installs and what it installed boots (QEMU)', () => {
  let iso: IsoUnderTest;
  const reports: VariantReport[] = [];

  beforeAll(async () => {
    iso = await obtainIso({ log: (l) => console.log(`[qa] ${l}`) });
  }, 100 * MIN);

  afterAll(() => {
    killAllVms();
    console.log(formatSummary({ iso: iso ?? null, variants: reports }));
  });

  /** Fails with the variant's own error (it carries the serial console's tail). */
  const passed = (r: VariantReport): void => {
    expect(r.error, `${r.variant}: artifacts in ${r.artifacts}`).toBeNull();
    expect(r.passed).toBe(true);
  };

  it.skipIf(kioskInstall || !kioskPart)('kiosk, BIOS, standard VGA: the default menu entry boots by itself and the Welcome page can be read on the guest\'s own screen, never blank for long on the way', async () => {
    const dir = join(QA_OUT, 'kiosk-boot');
    mkdirSync(dir, { recursive: true });
    const r = await bootToWizard({ iso: iso.path, firmware: 'bios', vga: 'std', accel: await accelerator(), dir, product: PRODUCT, log: (l) => console.log(`[qa] kiosk-boot: ${l}`) });
    console.log(`[qa] kiosk-boot: ${JSON.stringify(r)}`);
    expect(r.error, `artifacts in ${dir}`).toBeNull();
    expect(r.wizardSeconds).toBeGreaterThan(0);
    expect(r.longestBlankSeconds ?? 0).toBeLessThanOrEqual(BLANK_LIMIT_S);
  }, 32 * MIN);

  it.skipIf(!kioskInstall || !kioskPart)('interactive, BIOS, standard VGA: the kiosk read on the guest\'s screen and driven by its keyboard and tablet, German typed and encrypted, the installed disk unlocked and logged in on its own screen with the German keys', async () => {
    const r = await runVariant(VARIANTS[0]!, { iso, outRoot: QA_OUT });
    reports.push(r);
    passed(r);
    expect(r.seconds.interactive).toBeGreaterThan(0);
    // Never blank for long at a stretch, from the boot menu to the Welcome page.
    expect(r.kiosk?.longestBlankSeconds ?? 0).toBeLessThanOrEqual(BLANK_LIMIT_S);
    expect(Object.keys(r.kiosk?.pages ?? {})).toEqual(['welcome', 'keyboard', 'timezone', 'disk', 'users', 'summary', 'progress', 'done']);
    // German chosen: the keys labelled Y and Z type Z and Y in the kiosk...
    expect(r.kiosk?.fullNameRead).toBe('Zylka');
    // ...at the installed system's passphrase prompt (the initramfs' keymap), and on its console.
    expect(r.seconds.installedUnlockPrompt).toBeGreaterThan(0);
    expect(r.installedConsoleLogin).toBe(true);
    // The progress page was read through the install and its percent or time left kept changing.
    expect(r.kiosk?.progressSamples ?? 0).toBeGreaterThan(20);
    console.log(`[qa] interactive: progress read ${r.kiosk?.progressSamples} times, at most ${r.kiosk?.progressSampleGap?.toFixed(1)} s apart; longest still ${JSON.stringify(r.kiosk?.progressStill)}`);
    expect(r.kiosk?.progressStill?.seconds ?? Infinity).toBeLessThanOrEqual(PROGRESS_STILL_LIMIT_S);
    expect(r.powerOff).toBe('wizard');
    expect(r.target?.hostname).toBe('particle-kiosk');
    // A ceiling for a hang, not a timing: the Welcome page may take 25 min, the install 50 and the
    // installed system's unlock and login 15 (each twice what a loaded run took or more).
  }, 100 * MIN);

  it.skipIf(!otherParts)('remote, UEFI: GRUB over serial, the wizard through the forwarded port, the installed disk logs in with the chosen hostname', async () => {
    const r = await runVariant(VARIANTS[1]!, { iso, outRoot: QA_OUT });
    reports.push(r);
    passed(r);
    expect(r.seconds.interactive).toBeGreaterThan(0);
    expect(r.idleMemory?.usedMiB).toBeGreaterThan(0);
    expect(r.kioskRestartSeconds).toBeGreaterThan(0);
    expect(r.target?.hostname).toBe('particle-qa');
    expect(r.images.length).toBeGreaterThan(5);
  }, 45 * MIN);

  it.skipIf(!otherParts)('remote, UEFI, the bootc image embedded: the wizard installs it offline through podman, storage on the target, and the disk holds an ostree deployment whose origin is the ISO\'s --target-imgref', async () => {
    const bootcIso = await obtainIso({ image: 'bootc', buildApp: iso.how !== 'built', log: (l) => console.log(`[qa] ${l}`) });
    console.log(`[qa] bootc ISO: ${bootcIso.path} (${(bootcIso.bytes / 1024 ** 2).toFixed(1)} MiB, obtained in ${bootcIso.seconds.toFixed(0)} s)`);
    const r = await runVariant(parseVariant('remote-uefi-bootc'), { iso: bootcIso, outRoot: QA_OUT });
    reports.push(r);
    passed(r);
    expect(r.bootcTarget?.origin).toBe(`ostree-unverified-registry:${BOOTC_TARGET_IMGREF}`);
    expect(r.bootcTarget?.deployment).toMatch(/^ostree\/deploy\/default\/deploy\/[0-9a-f]{64}\.0$/);
    expect(r.bootcTarget?.hostname).toBe('particle-qa');
    expect(r.bootcLive).toMatchObject({ images: 0, containers: 0 });
  }, 60 * MIN);

  it.skipIf(!otherParts)('unattended, BIOS: installer.config= from GRUB\'s command line installs, powers off, and the disk logs in', async () => {
    const r = await runVariant(VARIANTS[2]!, { iso, outRoot: QA_OUT });
    reports.push(r);
    passed(r);
    expect(r.unattendedExit).toBe(0);
    expect(r.powerOff).toBe('by-itself');
    expect(r.target?.hostname).toBe('particle-unattended');
  }, 45 * MIN);
});
