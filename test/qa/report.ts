import type { Firmware } from '../vm/qemu';
import type { Medium, Mode } from './args';
import type { MemoryUse } from './contract';
import type { BootcTargetReport } from './bootc-target';
import type { IsoBuildInfo } from './iso';

/** What one QA variant measured and saw; written as report.json next to its artifacts. */
export interface VariantReport {
  readonly variant: string;
  readonly mode: Mode;
  readonly firmware: Firmware;
  readonly medium: Medium;
  accel: 'kvm' | 'tcg' | null;
  passed: boolean;
  /** The first failure, with the details that explain it. */
  error: string | null;
  /** Seconds since QEMU started, for each milestone reached. */
  readonly seconds: {
    grubMenu?: number;
    remoteAccessLine?: number;
    /** The wizard answered over the forwarded port with HTTP 200. */
    httpReady?: number;
    /** …and its Welcome page rendered in the browser: boot-to-interactive. */
    interactive?: number;
    /** `particle-live: kiosk started` on the serial console. */
    kioskStarted?: number;
    /** systemd's first console line: the kernel and initramfs are done. */
    systemd?: number;
    /** `particle-live: engine ready` on the serial console. */
    engineReady?: number;
    /** The answer file was fetched (unattended). */
    answerFetched?: number;
    /** `particle-live: unattended install finished` (unattended). */
    installFinished?: number;
    poweredOff?: number;
    /** The installed system's passphrase prompt read on its screen (seconds since its QEMU started). */
    installedUnlockPrompt?: number;
  };
  /** Memory in use in the live session at idle, the installer open. */
  idleMemory?: MemoryUse & { readonly afterSeconds: number };
  /** Seconds from killing the kiosk's browser to a new one running (the kiosk restarts its UI). */
  kioskRestartSeconds?: number;
  /** Seconds from confirming (or from fetching the answer file) to the install's end. */
  installSeconds?: number;
  unattendedExit?: number;
  /** How the live system went down: the wizard's button, ACPI, or killed. */
  powerOff?: 'wizard' | 'by-itself' | 'acpi' | 'killed';
  remoteUrl?: string;
  /** The kiosk variant: what the guest's own screen showed. */
  kiosk?: {
    /** The longest stretch of blank screen (one colour) after the boot menu, and when it began. */
    readonly longestBlankSeconds: number | null;
    readonly longestBlankFrom: number | null;
    readonly screenSamples: number;
    /** Seconds since power-on at which each page's heading was read on the screen. */
    readonly pages: Record<string, number>;
    /** The full name typed with German chosen, as read on the screen. */
    readonly fullNameRead?: string;
    /** The longest stretch the progress page's percent and time left read the same on the screen, and the readings taken. */
    readonly progressStill?: { seconds: number; from: number; reading: string } | null;
    readonly progressSamples?: number;
    readonly progressSampleGap?: number;
  };
  /** The kiosk variant: logged in on the installed system's own console with the chosen layout's keys. */
  installedConsoleLogin?: boolean;
  /** How many times the login was typed (2 when the first was refused and the keymap probe read right). */
  installedConsoleLoginAttempts?: number;
  /** After a refused login: what the password's keys made at the login prompt, as read. */
  installedConsoleKeymapProbe?: string;
  /** The installed disk booted with the same firmware. */
  target?: {
    readonly accel: 'kvm' | 'tcg';
    readonly loginPromptSeconds: number;
    readonly hostname: string;
    readonly whoami: string;
    readonly firmwareSeen: string;
  };
  /** A bootc variant: what the install left on the disk (the image does not boot). */
  bootcTarget?: BootcTargetReport;
  /** A bootc variant: the live system's own podman storage and memory after the install. */
  bootcLive?: {
    readonly images: number;
    readonly containers: number;
    readonly storageBytes: number;
    readonly usedMiBAfter: number | null;
    readonly growthMiB: number | null;
  };
  readonly expectedHostname: string;
  /** Screenshots and screen dumps, relative to the artifacts folder. */
  readonly images: string[];
  readonly artifacts: string;
}

export interface IsoFigures {
  readonly path: string;
  readonly bytes: number;
  readonly how: 'given' | 'reused' | 'built';
  readonly build: IsoBuildInfo | null;
  readonly seconds: number;
}

export interface QaReport {
  readonly iso: IsoFigures | null;
  readonly variants: readonly VariantReport[];
}

/** The boot-to-interactive target under TCG (the issue's). */
export const INTERACTIVE_TARGET_SECONDS = 90;

const s = (x: number | undefined | null): string => (x === undefined || x === null ? '—' : `${x.toFixed(1)} s`);
const MiB = 1024 ** 2;

/** The summary block printed at the end of `npm run qa`. */
export function formatSummary(r: QaReport): string {
  const lines: string[] = ['', '==== Live ISO QA ===='];
  if (r.iso) {
    const b = r.iso.build;
    lines.push(`ISO: ${r.iso.path} (${r.iso.how}), ${(r.iso.bytes / MiB).toFixed(1)} MiB`);
    if (b) {
      const parts = Object.entries(b.seconds).map(([k, v]) => `${k} ${Number(v).toFixed(1)}`);
      lines.push(`ISO build (build.json): rootfs cache ${b.rootfsCache} (${b.rootfsCache === 'hit' ? 'warm' : 'cold'}); seconds: ${parts.join(', ')}`);
    } else {
      lines.push('ISO build: no build.json next to the ISO');
    }
    if (r.iso.how === 'built') lines.push(`ISO obtained in ${s(r.iso.seconds)} (app build, test image and build script)`);
  } else {
    lines.push('ISO: none');
  }
  for (const v of r.variants) {
    lines.push('', `-- ${v.variant}: ${v.passed ? 'PASS' : 'FAIL'} (${v.accel ?? 'no VM'}; artifacts ${v.artifacts})`);
    const t = v.seconds;
    if (v.mode === 'interactive') {
      const k = v.kiosk;
      const over = t.interactive !== undefined && v.accel === 'tcg' && t.interactive > INTERACTIVE_TARGET_SECONDS ? ` (over the ${INTERACTIVE_TARGET_SECONDS} s target)` : '';
      lines.push(`   power-on to the Welcome page on the guest's screen (${v.accel ?? '?'}): ${s(t.interactive)}${over}; GRUB menu ${s(t.grubMenu)}, systemd ${s(t.systemd)}, engine ready ${s(t.engineReady)}, kiosk started ${s(t.kioskStarted)}`);
      lines.push(`   longest blank screen: ${k?.longestBlankSeconds != null ? `${s(k.longestBlankSeconds)} from ${s(k.longestBlankFrom)}` : '—'} (${k?.screenSamples ?? 0} screendumps); pages read on screen: ${k ? Object.entries(k.pages).map(([p, at]) => `${p} ${at.toFixed(0)} s`).join(', ') || '—' : '—'}`);
      const still = k?.progressStill;
      lines.push(`   progress page read ${k?.progressSamples ?? 0} times (at most ${s(k?.progressSampleGap)} apart); longest stretch reading the same: ${still ? `${s(still.seconds)} from ${s(still.from)} ("${still.reading}")` : '—'}`);
      lines.push(`   typed with German chosen, the screen read: ${k?.fullNameRead ?? '—'}; the installed system's passphrase prompt on its screen after ${s(t.installedUnlockPrompt)}, console login typed on its screen: ${v.installedConsoleLogin ? (v.installedConsoleLoginAttempts === 2 ? `yes, at the second try (the first was refused; the password's keys read "${v.installedConsoleKeymapProbe ?? ''}" at the login prompt)` : 'yes') : 'no'}`);
    } else if (v.mode === 'remote') {
      const over = t.interactive !== undefined && v.accel === 'tcg' && t.interactive > INTERACTIVE_TARGET_SECONDS ? ` (over the ${INTERACTIVE_TARGET_SECONDS} s target)` : '';
      lines.push(`   boot-to-interactive (${v.accel ?? '?'}): ${s(t.interactive)}${over}; GRUB menu ${s(t.grubMenu)}, remote-access line ${s(t.remoteAccessLine)}, HTTP 200 ${s(t.httpReady)}, kiosk started ${s(t.kioskStarted)}`);
      lines.push(`   idle memory (installer open): ${v.idleMemory ? `${v.idleMemory.usedMiB} MiB used of ${v.idleMemory.totalMiB} MiB (at ${s(v.idleMemory.afterSeconds)})` : '—'}`);
      lines.push(`   kiosk UI back after its browser was killed: ${v.kioskRestartSeconds !== undefined ? s(v.kioskRestartSeconds) : '—'}`);
    } else {
      lines.push(`   GRUB menu ${s(t.grubMenu)}, answer file fetched ${s(t.answerFetched)}, install finished ${s(t.installFinished)} (exit ${v.unattendedExit ?? '—'})`);
    }
    lines.push(`   install: ${s(v.installSeconds)}; powered off ${s(t.poweredOff)} (${v.powerOff ?? '—'})`);
    if (v.bootcTarget || v.variant.endsWith('-bootc')) {
      const b = v.bootcTarget;
      const l = v.bootcLive;
      lines.push(`   bootc install on the disk: ${b ? `${b.rootFsType} root, ${b.deployment}, origin ${b.origin}, hostname "${b.hostname}" (expected "${v.expectedHostname}")` : '—'}`);
      lines.push(`   live system afterwards: ${l ? `${l.images} images, ${l.containers} containers, ${(l.storageBytes / MiB).toFixed(1)} MiB in /var/lib/containers; memory in use ${l.usedMiBAfter ?? '—'} MiB (${l.growthMiB ?? '—'} MiB over idle)` : '—'}`);
    } else {
      lines.push(
        `   target (${v.firmware}): login prompt ${s(v.target?.loginPromptSeconds)}, hostname ${v.target ? `"${v.target.hostname}"` : '—'} (expected "${v.expectedHostname}"), firmware seen ${v.target?.firmwareSeen ?? '—'}`,
      );
    }
    if (v.error) lines.push(`   error: ${v.error.split('\n')[0]}`);
  }
  const failed = r.variants.filter((v) => !v.passed).map((v) => v.variant);
  lines.push('', r.variants.length === 0 ? 'no variant ran' : failed.length === 0 ? `PASS: ${r.variants.map((v) => v.variant).join(', ')}` : `FAIL: ${failed.join(', ')}`);
  return lines.join('\n');
}
