import type { Page } from 'playwright';

/** An interactive element as a failure message names it. */
export interface Untagged {
  readonly tag: string;
  readonly role: string | null;
  readonly id: string | null;
  readonly name: string | null;
  readonly text: string;
  /** Why it counts as interactive: its tag, role, tabindex, contenteditable or pointer cursor. */
  readonly why: string;
}

export interface TestIdReport {
  /** The `main` element's test id (page-<step id>, page-progress…), read in the same pass. */
  readonly view: string | null;
  /** Interactive elements found, with a test id or not. */
  readonly interactive: number;
  readonly untagged: readonly Untagged[];
  /** Test ids carried by more than one element, with how many. */
  readonly duplicates: readonly { readonly testId: string; readonly count: number }[];
}

/**
 * Every interactive element in the document, visible or not, and those without a data-testid. In
 * one synchronous pass in the page, so the DOM cannot change under it. Interactive: a button,
 * select, textarea, summary, iframe, input (not hidden), link or area with href, media with
 * controls, contenteditable; an element with an interactive ARIA role or tabindex ≥ 0; and a pointer
 * target (an element whose cursor invites a click where its parent's does not, such as a clickable
 * card; labels are left out, they forward the click to their control). A `<select>`'s own `<option>`s
 * are chosen through it by value and are not counted.
 */
export function checkTestIds(page: Page): Promise<TestIdReport> {
  return page.evaluate(() => {
    const roles = new Set(['button', 'link', 'radio', 'checkbox', 'tab', 'option', 'switch', 'slider', 'listbox', 'combobox', 'menuitem', 'menuitemcheckbox', 'menuitemradio', 'textbox', 'searchbox', 'spinbutton', 'treeitem']);
    const tags = new Set(['button', 'select', 'textarea', 'summary', 'iframe']);
    const inviting = new Set(['pointer', 'crosshair', 'grab']);
    const why = (e: Element): string | null => {
      const tag = e.localName;
      if (tag === 'option' && !e.hasAttribute('role')) return null;
      if (tags.has(tag)) return tag;
      if (tag === 'input') return (e as HTMLInputElement).type === 'hidden' ? null : `input[type=${(e as HTMLInputElement).type}]`;
      if ((tag === 'a' || tag === 'area') && e.hasAttribute('href')) return `${tag}[href]`;
      if ((tag === 'audio' || tag === 'video') && e.hasAttribute('controls')) return `${tag}[controls]`;
      const role = (e.getAttribute('role') ?? '').split(/\s+/).find((r) => roles.has(r));
      if (role) return `role=${role}`;
      const tabindex = e.getAttribute('tabindex');
      if (tabindex !== null && tabindex.trim() !== '' && Number(tabindex) >= 0) return `tabindex=${tabindex}`;
      if (e instanceof HTMLElement && e.isContentEditable) return 'contenteditable';
      if (tag === 'label') return null;
      const cursor = getComputedStyle(e).cursor;
      if (inviting.has(cursor) && (!e.parentElement || getComputedStyle(e.parentElement).cursor !== cursor)) return `cursor:${cursor}`;
      return null;
    };
    let interactive = 0;
    const untagged: Untagged[] = [];
    for (const e of document.querySelectorAll('*')) {
      const reason = why(e);
      if (reason === null) continue;
      interactive += 1;
      if ((e.getAttribute('data-testid') ?? '').trim() !== '') continue;
      const label = e.getAttribute('aria-label') ?? (e as HTMLInputElement).value ?? '';
      untagged.push({
        tag: e.localName,
        role: e.getAttribute('role'),
        id: e.id || null,
        name: e.getAttribute('name'),
        text: ((e.textContent ?? '').trim() || label).replace(/\s+/g, ' ').slice(0, 60),
        why: reason,
      });
    }
    const counts = new Map<string, number>();
    for (const e of document.querySelectorAll('[data-testid]')) {
      const id = e.getAttribute('data-testid')!;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const duplicates = [...counts].filter(([, n]) => n > 1).map(([testId, count]) => ({ testId, count }));
    const view = document.querySelector('main')?.getAttribute('data-testid') ?? null;
    return { view, interactive, untagged, duplicates };
  });
}

/** One line per element, for a failure message: `<tag role=… id=… name=…> "text" (why)`. */
export function describeUntagged(list: readonly Untagged[]): string[] {
  return list.map((u) => {
    const attrs = [u.role && `role=${u.role}`, u.id && `id=${u.id}`, u.name && `name=${u.name}`].filter(Boolean).join(' ');
    return `<${u.tag}${attrs ? ` ${attrs}` : ''}> "${u.text}" (${u.why})`;
  });
}
