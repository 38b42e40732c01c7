import type { KioskScreen } from './kiosk-screen';
import { findPhrase, screenText, type Box, type Word } from './ocr';
import { sleep } from './serial';

/**
 * The wizard on the kiosk's own screen, driven only with the guest's keyboard (key codes) and its
 * tablet (clicks on what OCR read), and checked only on the guest's screendumps: each page's heading
 * must be read there before anything is done on it.
 *
 * The keyboard check: on the Keyboard page the person picks German; from then on the harness presses
 * the keys where a US keyboard has Y and Z, and the screen must show what a German keyboard types
 * there (Z and Y). The password is typed the same way, so the installed system takes only the German
 * reading of those keys, which is what the login afterwards uses.
 */

/** English texts of the wizard (src/shared/locales/en.json), as they appear on screen. */
export const KIOSK_TEXT = {
  welcome: (product: string) => `Welcome to ${product}`,
  install: 'Install',
  next: 'Next',
  keyboardHeading: 'Choose your keyboard layout',
  keyboardSearch: 'Search layouts',
  germanNoDeadKeys: 'German (no dead keys)',
  timezoneHeading: 'Where are you?',
  diskHeading: 'Where should the system be installed?',
  rescan: 'Rescan',
  encrypt: 'Encrypt the system',
  passphrase: 'Encryption passphrase',
  /** What the Disk page's footer says while the passphrase or its confirmation is missing (storage.missing). */
  passphraseMissing: ['Enter an encryption passphrase', 'Type the same passphrase again'],
  usersHeading: 'Who will use this computer?',
  fullName: 'Full name',
  password: 'Password',
  confirm: 'Confirm password',
  hostname: 'Computer name',
  summaryHeading: 'Ready to install',
  /** The Summary footer's hint while the plan is being made: Install is disabled until it goes (summary.install.blocked). */
  installBlocked: 'The installation can start once the plan is ready.',
  /** The confirmation dialog's title (summary.install.dialogTitleErase). */
  confirmTitle: 'Erase the disk and install?',
  confirmErase: 'Erase and install',
  progress: (product: string) => `Installing ${product}`,
  done: (product: string) => `${product} is installed`,
  shutDown: 'Shut down',
} as const;

/**
 * What the keys labelled Y and Z on a US keyboard type on a German one, and back: the harness types
 * `usKeysFor(text)` so that a German layout shows `text`.
 */
export function usKeysFor(germanText: string): string {
  // German has "-" where a US keyboard has "/".
  const swap: Record<string, string> = { y: 'z', z: 'y', Y: 'Z', Z: 'Y', '-': '/' };
  return [...germanText].map((c) => {
    if (/[^A-Za-z0-9 -]/.test(c)) throw new Error(`"${c}" sits on different keys in the two layouts beyond Y, Z and "-"; use letters, digits, spaces and "-"`);
    return swap[c] ?? c;
  }).join('');
}

export interface KioskWizardInput {
  readonly product: string;
  /** What the Disk page shows for the target (its serial or size), to click. */
  readonly diskLabel: string;
  /** The full name, as a German keyboard types it (it must hold a Y or Z to prove the layout). */
  readonly fullName: string;
  /** The username (letters without Y and Z, and digits, read the same in both layouts). */
  readonly user: string;
  /** The password, as a German keyboard types it (letters, digits and spaces). */
  readonly password: string;
  /**
   * The disk's encryption passphrase, as a German keyboard types it (with a Y or Z, so it reads
   * differently in the two layouts); the installed system opens only with the German reading.
   */
  readonly passphrase: string;
  readonly hostname: string;
  readonly installTimeoutMs?: number;
  readonly log: (line: string) => void;
}

/**
 * What the progress page says, read from the screen: its percent ("42 % done", "42.5% done") and its
 * time-left line; null parts when they were not read. Two readings that differ mean the person saw
 * the progress move.
 */
export function readProgress(words: readonly Word[]): { percent: string | null; timeLeft: string | null } {
  const text = screenText(words).replace(/\s+/g, ' ');
  const percent = /(\d{1,3}(?:[.,]\d)?)\s?%\s*done/i.exec(text)?.[1] ?? null;
  const timeLeft = /(About [^.]*? left|Taking longer than expected(?:\s*\([^)]*\))?|Calculating the time left|Almost done)/i.exec(text)?.[1]?.trim() ?? null;
  return { percent, timeLeft };
}

const readsNothing = (words: readonly Word[]): boolean => {
  const r = readProgress(words);
  return r.percent === null && r.timeLeft === null;
};

/** How often the progress loop reads the whole screen rather than the strip of its percent and time left. */
export const PROGRESS_FULL_LOOK_S = 30;

/**
 * The strip of the screen that holds the progress page's percent and time-left lines (their words'
 * boxes, 8 pixels more above and below, the screen's whole width), or null when neither was read.
 */
export function progressBand(words: readonly Word[], screen: { width: number; height: number }): Box | null {
  const lines = new Map<string, Word[]>();
  for (const w of words) lines.set(w.line, [...(lines.get(w.line) ?? []), w]);
  // A line with a percent sign counts even where OCR put "done" on a line of its own.
  const held = [...lines.values()].filter((ws) => !readsNothing(ws) || ws.some((w) => w.text.includes('%')));
  if (held.length === 0) return null;
  const top = Math.max(0, Math.min(...held.flat().map((w) => w.top)) - 8);
  const bottom = Math.min(screen.height, Math.max(...held.flat().map((w) => w.top + w.height)) + 8);
  return { left: 0, top, width: screen.width, height: bottom - top };
}

/** The longest time the progress page's reading stood still, from (seconds, reading) samples in order. */
export function longestStill(samples: readonly { at: number; reading: string }[]): { seconds: number; from: number; reading: string } | null {
  let best: { seconds: number; from: number; reading: string } | null = null;
  let i = 0;
  while (i < samples.length) {
    let j = i;
    while (j + 1 < samples.length && samples[j + 1]!.reading === samples[i]!.reading) j++;
    // The reading held from sample i until the next different one (or the last sample).
    const end = samples[Math.min(j + 1, samples.length - 1)]!.at;
    const seconds = end - samples[i]!.at;
    if (!best || seconds > best.seconds) best = { seconds, from: samples[i]!.at, reading: samples[i]!.reading };
    i = j + 1;
  }
  return best;
}

export interface KioskWizardResult {
  readonly pages: Record<string, number>;
  readonly installSeconds: number;
  /** The longest stretch the progress page's percent and time-left line read the same on the screen. */
  readonly progressStill: { seconds: number; from: number; reading: string } | null;
  /** How many readings of the progress page were taken, and how far apart at most (seconds). */
  readonly progressSamples: number;
  readonly progressSampleGap: number;
  /** The full name as read from the screen after typing it with German selected. */
  readonly fullNameRead: string;
}

async function page(screen: KioskScreen, heading: string, name: string, pages: Record<string, number>, now: () => number): Promise<void> {
  await screen.waitFor(heading, { timeoutMs: 180_000, blankLimitS: 30, what: `the ${name} page's heading` });
  pages[name] = now();
  await screen.keep(name);
}

/**
 * An option of a list whose label is `label` and whose key, printed small right under it, is `key`
 * ("German" over "de"): only a list item has both, so neither the search field nor a hint that
 * mentions the label is clicked.
 */
export function listOption(words: readonly Word[], label: string, key: string): Box | null {
  for (const box of findPhrase(words, label, { exact: true })) {
    const below = findPhrase(words, key, { exact: true }).find((k) => k.top > box.top + box.height / 2 && k.top - (box.top + box.height) < box.height * 1.5 && Math.abs(k.left - box.left) < box.height);
    if (below) return box;
  }
  return null;
}

async function clickOption(screen: KioskScreen, label: string, key: string): Promise<void> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const look = await screen.look();
    const box = listOption(look.words, label, key);
    if (box) {
      await screen.clickAt(box.left + box.width / 2, box.top + box.height / 2, `"${label}" (${key})`);
      return;
    }
    if (performance.now() > deadline) {
      const file = await screen.keep('no-option');
      throw new Error(`no list option "${label}" over "${key}" on the screen (${file})`);
    }
    await sleep(2000);
  }
}

/** One page of the wizard, done on the guest's screen; each returns when the page's work is done and the next page was asked for. */
export interface StepContext {
  readonly screen: KioskScreen;
  readonly now: () => number;
  readonly w: KioskWizardInput;
  readonly pages: Record<string, number>;
  fullNameRead?: string;
  installSeconds?: number;
  progress?: { at: number; reading: string }[];
}

export const STEPS: Record<string, (c: StepContext) => Promise<void>> = {
  async welcome({ screen, now, w, pages }) {
    await page(screen, KIOSK_TEXT.welcome(w.product), 'welcome', pages, now);
    await screen.click(KIOSK_TEXT.install, { exact: true });
  },

  async keyboard({ screen, now, pages }) {
    const T = KIOSK_TEXT;
    await page(screen, T.keyboardHeading, 'keyboard', pages, now);
    await screen.click(T.keyboardSearch);
    await screen.type('German');
    await sleep(1500);
    // The layout list, then the variant list (the same search filters it): German, no dead keys.
    await clickOption(screen, 'German', 'de');
    await sleep(1500);
    await clickOption(screen, T.germanNoDeadKeys, 'nodeadkeys');
    // The engine switches the kiosk's layout; the page says so, under the lists: scroll there with the
    // wheel over the step rail (not over a list, which would scroll the list instead).
    await screen.scroll(150, 600, 5);
    await screen.waitFor('Applied to this session', { timeoutMs: 60_000, what: 'the Keyboard page saying the layout was applied' });
    await screen.keep('keyboard-applied');
    await screen.click(T.next, { exact: true });
  },

  async timezone({ screen, now, pages }) {
    await page(screen, KIOSK_TEXT.timezoneHeading, 'timezone', pages, now);
    await screen.click(KIOSK_TEXT.next, { exact: true });
  },

  async disk({ screen, now, w, pages }) {
    await page(screen, KIOSK_TEXT.diskHeading, 'disk', pages, now);
    // The list comes once the engine has probed the disks ("Looking for disks…" until then; on a
    // loaded host that outlasted the first look, and the wheel turned meanwhile scrolled the list
    // past the target once it came): wait for its Rescan button first.
    await screen.waitFor(KIOSK_TEXT.rescan, { timeoutMs: 180_000, exact: true, what: 'the disk list (its Rescan button)' });
    // The target may sit below the fold (after other disks): scroll to it before clicking.
    await screen.scrollUntil(w.diskLabel, { x: 150, y: 600, exact: true });
    await screen.click(w.diskLabel, { exact: true });
    await screen.keep('disk-chosen');
    // The storage options open under the disks: scroll to Encryption with the wheel over the step
    // rail and tick it; its passphrase fields appear under it. A label focuses its field, and Tab
    // goes on to the confirmation, as a keyboard user would.
    await screen.scrollUntil(KIOSK_TEXT.encrypt, { x: 150, y: 600 });
    await screen.click(KIOSK_TEXT.encrypt, { exact: true });
    await screen.scrollUntil(KIOSK_TEXT.passphrase, { x: 150, y: 600, exact: true });
    await screen.click(KIOSK_TEXT.passphrase, { exact: true });
    await screen.type(usKeysFor(w.passphrase));
    await screen.press('tab');
    await screen.type(usKeysFor(w.passphrase));
    // Until both fields hold the same passphrase of 8 characters or more, the footer says what is missing.
    const deadline = performance.now() + 30_000;
    for (;;) {
      const text = screenText((await screen.look()).words);
      const missing = KIOSK_TEXT.passphraseMissing.filter((m) => text.includes(m));
      if (missing.length === 0) break;
      if (performance.now() > deadline) {
        const file = await screen.keep('passphrase-missing');
        throw new Error(`after typing the passphrase twice, the Disk page still says "${missing.join('", "')}" (${file})`);
      }
      await sleep(2000);
    }
    await screen.keep('disk-encrypted');
    await screen.click(KIOSK_TEXT.next, { exact: true });
  },

  async users(c) {
    const { screen, now, w, pages } = c;
    const T = KIOSK_TEXT;
    await page(screen, T.usersHeading, 'users', pages, now);
    // A label focuses its field; from there Tab walks the form as a keyboard user would (the page
    // scrolls with the focus): full name, username, password, confirmation, computer name.
    await screen.click(T.fullName, { exact: true });
    await screen.type(usKeysFor(w.fullName));
    // The screen shows the typed text once the guest has drawn it: on a loaded host that took more
    // than the second a single look waited (the field was still empty), so look for up to 30 s.
    const surname = w.fullName.split(' ').pop()!;
    let look = await screen.look();
    for (let waited = 0; findPhrase(look.words, surname).length === 0 && waited < 30_000; waited += 2000) {
      await sleep(2000);
      look = await screen.look();
    }
    look = await screen.look('users-typed');
    const read = findPhrase(look.words, surname).length > 0 ? surname : '';
    c.fullNameRead = read || (look.words.find((x) => /[yz]/i.test(x.text) && x.text.length >= 4)?.text ?? '(not read)');
    if (!read) throw new Error(`after choosing German, the keys typed "${usKeysFor(w.fullName)}" on a US keyboard should show "${w.fullName}", but the screen does not read "${surname}" (closest: ${c.fullNameRead})`);
    w.log(`full name typed with German selected reads "${surname}" on the screen`);
    const tab = async (): Promise<void> => screen.press('tab');
    const replace = async (text: string): Promise<void> => {
      await screen.press('a', ['ctrl']);
      await screen.type(text);
    };
    await tab();
    await replace(usKeysFor(w.user));
    await tab();
    await screen.type(usKeysFor(w.password));
    await tab();
    await screen.type(usKeysFor(w.password));
    await tab();
    await replace(usKeysFor(w.hostname));
    await screen.keep('users-filled');
    await screen.click(T.next, { exact: true });
  },

  async summary({ screen, now, pages }) {
    const T = KIOSK_TEXT;
    await page(screen, T.summaryHeading, 'summary', pages, now);
    // Install stays disabled while the plan is made (seconds on a loaded host); a click on it then
    // does nothing. Wait, as a person would, until the footer's hint is gone.
    const deadline = performance.now() + 120_000;
    for (;;) {
      const l = await screen.look();
      const blocked = findPhrase(l.words, T.installBlocked).length > 0 || findPhrase(await l.enlarged(), T.installBlocked).length > 0;
      if (!blocked) break;
      if (performance.now() > deadline) {
        const file = await screen.keep('plan-timeout');
        throw new Error(`the Summary page still said "${T.installBlocked}" after 120 s (${file})`);
      }
      await sleep(2000);
    }
    // The dialog opens on the click; if the first click still met a disabled button, click once more.
    for (let attempt = 1; ; attempt++) {
      await screen.click(T.install, { exact: true });
      try {
        await screen.waitFor(T.confirmTitle, { timeoutMs: 30_000, what: `the confirmation "${T.confirmTitle}" after clicking Install` });
        break;
      } catch (e) {
        if (attempt >= 2) throw e;
      }
    }
    await screen.keep('summary-confirm');
    await screen.click(T.confirmErase, { exact: true });
  },

  async install(c) {
    const { screen, now, w, pages } = c;
    const T = KIOSK_TEXT;
    const confirmed = now();
    await page(screen, T.progress(w.product), 'progress', pages, now);
    // Twice what the encrypted install needed with a busy loop on one core beside the tests that boot no
    // VM (95.4 % done at 20 min, about 3 minutes left: 23-24 min); 20 min had left 1.35x the 889 s of
    // a CI run without the loop.
    const limit = w.installTimeoutMs ?? 50 * 60_000;
    const deadline = performance.now() + limit;
    let kept = 0;
    // Most looks read only the strip that holds the percent and the time left (progressBand); the
    // whole screen is read every PROGRESS_FULL_LOOK_S, and whenever the strip says neither, so the
    // Done and Failure pages are found as before.
    let band: Box | null = null;
    let fullAt = -Infinity;
    for (;;) {
      let l = band && now() - fullAt < PROGRESS_FULL_LOOK_S ? await screen.look(undefined, { band }) : await screen.look();
      if (l.band && readsNothing(l.words)) l = await screen.look();
      if (!l.band) {
        fullAt = now();
        if (findPhrase(l.words, T.done(w.product)).length > 0) break;
        band = progressBand(l.words, l.stats);
      }
      // Every reading is of the strip alone, so two readings differ only where the screen did.
      const r = readProgress(band ? await l.inBand(band) : l.words);
      if (performance.now() > deadline) {
        await screen.keep('install-timeout');
        throw new Error(`the install did not finish within ${limit / 60_000} min`);
      }
      if (!l.band && findPhrase(l.words, T.progress(w.product)).length === 0) {
        // Neither the progress page nor Done: the Failure page, or something else; say what it reads.
        await sleep(3000);
        const again = await screen.look();
        if (findPhrase(again.words, T.progress(w.product)).length === 0 && findPhrase(again.words, T.done(w.product)).length === 0) {
          const file = await screen.keep('install-ended');
          throw new Error(`the install left the progress page without "${T.done(w.product)}" (${file}): ${again.words.map((x) => x.text).join(' ').slice(0, 1500)}`);
        }
      }
      if (r.percent !== null || r.timeLeft !== null) (c.progress ??= []).push({ at: l.at, reading: `${r.percent ?? '?'} % | ${r.timeLeft ?? '?'}` });
      if (now() - confirmed > (kept + 1) * 90) {
        kept++;
        await screen.keep(`progress-${String(kept).padStart(2, '0')}`);
      }
      await sleep(2000);
    }
    c.installSeconds = now() - confirmed;
    pages.done = now();
    await screen.keep('done');
  },
};

export async function driveKioskWizard(screen: KioskScreen, now: () => number, w: KioskWizardInput): Promise<KioskWizardResult> {
  const c: StepContext = { screen, now, w, pages: {} };
  for (const step of Object.values(STEPS)) await step(c);
  const p = c.progress ?? [];
  const gaps = p.slice(1).map((x, i) => x.at - p[i]!.at);
  return {
    pages: c.pages,
    installSeconds: c.installSeconds ?? 0,
    fullNameRead: c.fullNameRead ?? '',
    progressStill: longestStill(p),
    progressSamples: p.length,
    progressSampleGap: gaps.length ? Math.max(...gaps) : 0,
  };
}

/** The Done page's "Shut down", clicked on the guest's screen. */
export async function shutDownFromKiosk(screen: KioskScreen): Promise<void> {
  await screen.click(KIOSK_TEXT.shutDown, { exact: true });
}
