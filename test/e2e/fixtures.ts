import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright';
import { expect } from 'vitest';
import type { EngineInfo } from '../../src/shared/api';
import type { Disk, DiskList, Partition } from '../../src/shared/disk';
import type { SaveTarget } from '../../src/shared/system';
import { makeDisk } from '../support/make-disk';
import { CHROMIUM } from './browser';

/**
 * Why the end-to-end tests that serve the built UI with a demo engine cannot run here, or null:
 * Chromium, the built renderer, and root (serve --demo attaches loop-backed virtual disks).
 */
export function demoUiSkipReason(): string | null {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install chromium)`;
  if (!existsSync(join(resolve(import.meta.dirname, '../..'), 'out/renderer/index.html'))) return 'out/renderer is not built (run npx electron-vite build)';
  if (process.getuid?.() !== 0) return 'serve --demo needs root to attach its loop-backed virtual disks';
  return null;
}

/** Disks no demo engine can make (Windows laptop, USB stick, live medium), to render every state. */
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

function part(disk: string, n: number, start: number, size: number, typeName: string, fsType: string | null, label: string | null = null): Partition {
  const sep = /\d$/.test(disk) ? 'p' : '';
  return {
    path: `/dev/${disk}${sep}${n}`,
    name: `${disk}${sep}${n}`,
    number: n,
    start,
    size,
    typeGuid: null,
    typeName,
    partLabel: null,
    fsType,
    label,
    uuid: null,
    mountpoints: [],
    holders: [],
    os: null,
  };
}

function disk(name: string, extra: Partial<Disk>): Disk {
  return makeDisk({ path: `/dev/${name}`, partitionTable: 'gpt', ...extra });
}

export const FIXTURE_INFO: EngineInfo = { version: '0.1.0', protocol: 1, mode: 'normal', root: true, firmware: 'uefi', arch: 'x64', tpm2: false };

export const FIXTURE_DISKS: DiskList = {
  minimumSize: 16 * GiB,
  allowLoop: false,
  probedAt: '2026-01-01T00:00:00.000Z',
  disks: [
    disk('nvme0n1', {
      model: 'Samsung SSD 980 PRO 512GB',
      transport: 'nvme',
      size: 476.94 * GiB,
      partitions: [
        part('nvme0n1', 1, MiB, 100 * MiB, 'EFI System', 'vfat'),
        part('nvme0n1', 2, 101 * MiB, 16 * MiB, 'Microsoft reserved', null),
        part('nvme0n1', 3, 117 * MiB, 476 * GiB - 800 * MiB, 'Microsoft basic data', 'ntfs', 'Windows'),
        part('nvme0n1', 4, 476 * GiB - 683 * MiB, 600 * MiB, 'Windows recovery environment', 'ntfs'),
      ],
      verdict: 'warn',
      reasons: [
        { code: 'existing-partitions', message: '/dev/nvme0n1 has 4 partitions.' },
        { code: 'windows', message: 'Windows Boot Manager on /dev/nvme0n1p1.', subject: '/dev/nvme0n1p1' },
        { code: 'esp', message: '/dev/nvme0n1p1 is an EFI system partition.', subject: '/dev/nvme0n1p1' },
      ],
    }),
    disk('sda', {
      vendor: 'SanDisk',
      model: 'Ultra Fit',
      transport: 'usb',
      removable: true,
      size: 28.64 * GiB,
      partitionTable: 'dos',
      partitions: [part('sda', 1, MiB, 28.64 * GiB - MiB, 'W95 FAT32 (LBA)', 'vfat', 'STICK')],
      verdict: 'warn',
      reasons: [
        { code: 'removable', message: '/dev/sda is removable.' },
        { code: 'usb', message: '/dev/sda is connected over USB.' },
        { code: 'existing-partitions', message: '/dev/sda has 1 partition.' },
      ],
    }),
    disk('sdb', {
      vendor: 'ATA',
      model: 'WDC WD20EZRZ',
      transport: 'sata',
      rotational: true,
      size: 1863.02 * GiB,
      partitionTable: null,
      verdict: 'ok',
    }),
    disk('sdc', {
      vendor: 'Kingston',
      model: 'DataTraveler 3.0',
      transport: 'usb',
      removable: true,
      size: 14.4 * GiB,
      partitionTable: 'dos',
      fsType: 'iso9660',
      mountpoints: ['/run/live/medium'],
      verdict: 'refused',
      reasons: [
        { code: 'live-medium', message: '/dev/sdc holds the running live system (/run/live/medium).' },
        { code: 'too-small', message: '/dev/sdc is 14.4 GiB; at least 16 GiB is needed.' },
        { code: 'usb', message: '/dev/sdc is connected over USB.' },
      ],
    }),
  ],
};

/** Index of the step the rail marks as current. */
export function currentStep(page: Page): Promise<number> {
  return page.evaluate(() => [...document.querySelectorAll('[data-testid="step-rail"] [data-testid^="step-"]')].findIndex((li) => li.getAttribute('aria-current') === 'step'));
}

/** Index in the rail of the step with this id (language, keyboard, timezone, disk, users, summary). */
export function stepIndexOf(page: Page, id: string): Promise<number> {
  return page.evaluate((want) => [...document.querySelectorAll('[data-testid="step-rail"] [data-testid^="step-"]')].findIndex((li) => li.getAttribute('data-testid') === want), `step-${id}`);
}

/** The footer's way forward: Install on Welcome, Next elsewhere (Summary's Install opens a dialog instead). */
export const FORWARD = /^(welcome-install|nav-next)$/;

/** The `main` element's test id: page-<step id>, page-progress, page-done, page-failure, page-engine-error… */
export function viewOf(page: Page): Promise<string | null> {
  return page.evaluate(() => document.querySelector('main')?.getAttribute('data-testid') ?? null);
}

/** Waits until the page shows `view` (see viewOf). */
export async function waitForView(page: Page, view: string, timeout = 60_000): Promise<void> {
  await expect.poll(() => viewOf(page), { timeout, interval: 100, message: `waiting for ${view}` }).toBe(view);
}

/**
 * Presses the footer's primary button (Install on Welcome, Next elsewhere) until the wizard is on step
 * `index`, waiting for each step to allow it. Navigating by the rail, not by a count of presses, keeps
 * tests working when steps are added before the one they test.
 */
export async function advanceToStep(page: Page, index: number): Promise<void> {
  for (let i = 0; i < 12 && (await currentStep(page)) < index; i++) {
    const before = await currentStep(page);
    const next = page.getByTestId(FORWARD);
    await expect.poll(() => next.isEnabled(), { timeout: 60_000, message: `primary button on step ${before} stays disabled` }).toBe(true);
    await next.click();
    await expect.poll(() => currentStep(page), { timeout: 30_000 }).toBeGreaterThan(before);
  }
  expect(await currentStep(page)).toBe(index);
}

/**
 * This machine has no default route, so the Welcome page's blocking network check (the branding's
 * registry image must be pulled) would stop every test at Welcome. Tests of later pages ask the real
 * engine's checks without naming the image, which the engine answers with network "skipped".
 * `saveTargets`, when given, are added to every listSaveTargets answer (this machine has no USB stick),
 * so the pages render their per-device save buttons; pressing one would fail.
 */
export async function skipNetworkCheck(page: Page, saveTargets: readonly SaveTarget[] = []): Promise<void> {
  const targetCalls = new Set<unknown>();
  await page.routeWebSocket(/\/rpc$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      if (typeof message !== 'string') return server.send(message);
      const lines = message.split('\n').map((line) => {
        try {
          const msg = JSON.parse(line) as { id?: unknown; method?: string; params?: Record<string, unknown> };
          if (msg.method === 'listSaveTargets') targetCalls.add(msg.id);
          if (msg.method !== 'checkRequirements' || !msg.params) return line;
          const { image: _image, ...rest } = msg.params;
          return JSON.stringify({ ...msg, params: rest });
        } catch {
          return line;
        }
      });
      server.send(lines.join('\n'));
    });
    if (saveTargets.length === 0) return;
    server.onMessage((message) => {
      if (typeof message !== 'string') return ws.send(message);
      const lines = message.split('\n').map((line) => {
        try {
          const msg = JSON.parse(line) as { id?: unknown; result?: { targets?: SaveTarget[] } };
          if (!targetCalls.has(msg.id) || !msg.result?.targets) return line;
          return JSON.stringify({ ...msg, result: { ...msg.result, targets: [...msg.result.targets, ...saveTargets] } });
        } catch {
          return line;
        }
      });
      ws.send(lines.join('\n'));
    });
  });
}

/** The focused element's test id ('' when it has none). */
export function activeTestId(page: Page): Promise<string> {
  return page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? '');
}

/**
 * Chooses the installer's language on the Welcome page and waits until the page has turned to it
 * (`lang` on the document): languages other than English load when chosen, as their own chunk.
 */
export async function chooseLanguage(page: Page, locale: string): Promise<void> {
  await page.getByTestId(`welcome-language-${locale}`).check();
  await expect.poll(() => page.evaluate(() => document.documentElement.lang), { timeout: 30_000 }).toBe(locale);
}
