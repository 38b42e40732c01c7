import type { KioskScreen } from './kiosk-screen';
import { findPhrase } from './ocr';
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

/** English texts of the wizard (src/renderer/src/i18n/locales/en.ts and ns/*), as they appear on screen. */
export const KIOSK_TEXT = {
  welcome: (product: string) => `Welcome to ${product}`,
  install: 'Install',
  next: 'Next',
  keyboardHeading: 'Choose your keyboard layout',
  keyboardSearch: 'Search layouts',
  germanNoDeadKeys: 'German (no dead keys)',
  timezoneHeading: 'Where are you?',
  diskHeading: 'Where should the system be installed?',
  usersHeading: 'Who will use this computer?',
  fullName: 'Full name',
  password: 'Password',
  confirm: 'Confirm password',
  hostname: 'Computer name',
  summaryHeading: 'Ready to install',
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
  readonly hostname: string;
  readonly installTimeoutMs?: number;
  readonly log: (line: string) => void;
}

export interface KioskWizardResult {
  readonly pages: Record<string, number>;
  readonly installSeconds: number;
  /** The full name as read from the screen after typing it with German selected. */
  readonly fullNameRead: string;
}

async function page(screen: KioskScreen, heading: string, name: string, pages: Record<string, number>, now: () => number): Promise<void> {
  await screen.waitFor(heading, { timeoutMs: 180_000, blankLimitS: 30, what: `the ${name} page's heading` });
  pages[name] = now();
  await screen.keep(name);
}

export async function driveKioskWizard(screen: KioskScreen, now: () => number, w: KioskWizardInput): Promise<KioskWizardResult> {
  const pages: Record<string, number> = {};
  const T = KIOSK_TEXT;
  await page(screen, T.welcome(w.product), 'welcome', pages, now);
  await screen.click(T.install, { exact: true });

  await page(screen, T.keyboardHeading, 'keyboard', pages, now);
  await screen.click(T.keyboardSearch);
  await screen.type('German');
  await sleep(1500);
  // The layout list, then the variant list (filtered by the same search): German, no dead keys.
  const layouts = await screen.look();
  const alone = findPhrase(layouts.words, 'German', { exact: true }).length > 0;
  await screen.click('German', { exact: alone });
  await sleep(1500);
  await screen.click(T.germanNoDeadKeys);
  // The engine switches the kiosk's layout; the page says so once it is done.
  await screen.waitFor('Applied to this session', { timeoutMs: 60_000, what: 'the Keyboard page saying the layout was applied' });
  await screen.keep('keyboard-applied');
  await screen.click(T.next, { exact: true });

  await page(screen, T.timezoneHeading, 'timezone', pages, now);
  await screen.click(T.next, { exact: true });

  await page(screen, T.diskHeading, 'disk', pages, now);
  await screen.click(w.diskLabel, { exact: true });
  await screen.keep('disk-chosen');
  await screen.click(T.next, { exact: true });

  await page(screen, T.usersHeading, 'users', pages, now);
  // A label focuses its field; from there Tab walks the form as a keyboard user would (the page
  // scrolls with the focus): full name, username, password, confirmation, computer name.
  await screen.click(T.fullName, { exact: true });
  await screen.type(usKeysFor(w.fullName));
  await sleep(1000);
  const look = await screen.look('users-typed');
  const surname = w.fullName.split(' ').pop()!;
  const read = findPhrase(look.words, surname).length > 0 ? surname : '';
  const fullNameRead = read || (look.words.find((x) => /[yz]/i.test(x.text) && x.text.length >= 4)?.text ?? '(not read)');
  if (!read) throw new Error(`after choosing German, the keys typed "${usKeysFor(w.fullName)}" on a US keyboard should show "${w.fullName}", but the screen does not read "${surname}" (closest: ${fullNameRead})`);
  w.log(`full name typed with German selected reads "${surname}" on the screen`);
  const next = async (): Promise<void> => screen.press('tab');
  const replace = async (text: string): Promise<void> => {
    await screen.press('a', ['ctrl']);
    await screen.type(text);
  };
  await next();
  await replace(usKeysFor(w.user));
  await next();
  await screen.type(usKeysFor(w.password));
  await next();
  await screen.type(usKeysFor(w.password));
  await next();
  await replace(usKeysFor(w.hostname));
  await screen.keep('users-filled');
  await screen.click(T.next, { exact: true });

  await page(screen, T.summaryHeading, 'summary', pages, now);
  await screen.click(T.install, { exact: true });
  await screen.click(T.confirmErase, { exact: true });
  const confirmed = now();
  await page(screen, T.progress(w.product), 'progress', pages, now);
  const limit = w.installTimeoutMs ?? 20 * 60_000;
  const deadline = performance.now() + limit;
  let kept = 0;
  for (;;) {
    const l = await screen.look();
    if (findPhrase(l.words, T.done(w.product)).length > 0) break;
    if (performance.now() > deadline) {
      await screen.keep('install-timeout');
      throw new Error(`the install did not finish within ${limit / 60_000} min`);
    }
    if (findPhrase(l.words, T.progress(w.product)).length === 0) {
      // Not the progress page and not Done: the Failure page, or something else; say what it reads.
      await sleep(3000);
      const again = await screen.look();
      if (findPhrase(again.words, T.progress(w.product)).length === 0 && findPhrase(again.words, T.done(w.product)).length === 0) {
        const file = await screen.keep('install-ended');
        throw new Error(`the install left the progress page without "${T.done(w.product)}" (${file}): ${again.words.map((x) => x.text).join(' ').slice(0, 1500)}`);
      }
    }
    if (now() - confirmed > (kept + 1) * 90) {
      kept++;
      await screen.keep(`progress-${String(kept).padStart(2, '0')}`);
    }
    await sleep(5000);
  }
  const installSeconds = now() - confirmed;
  pages.done = now();
  await screen.keep('done');
  return { pages, installSeconds, fullNameRead: read };
}

/** The Done page's "Shut down", clicked on the guest's screen. */
export async function shutDownFromKiosk(screen: KioskScreen): Promise<void> {
  await screen.click(KIOSK_TEXT.shutDown, { exact: true });
}
