/**
 * A small, tolerant XML reader for the few data files the engine reads (the XKB rules). It builds
 * a plain element tree and skips what those files never need: the prolog, DOCTYPE, comments,
 * processing instructions. Entities are decoded (the five named ones and numeric ones); unknown
 * entities are kept as written rather than failing, and unclosed elements are closed at the end.
 * Not a validating parser, and not meant for untrusted input larger than a few megabytes.
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** Text directly inside this element (entities decoded), concatenated. */
  text: string;
}

const NAMED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);/g, (whole, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[body] ?? whole;
  });
}

function parseAttributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([^\s=/]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) out[m[1]!] = decodeEntities(m[3] ?? m[4] ?? '');
  return out;
}

/** Parses a document; returns a synthetic root element (name "#document") holding the top-level elements. */
export function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  let i = 0;
  const n = xml.length;
  while (i < n) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt === -1 ? n : lt;
    if (textEnd > i) {
      const text = xml.slice(i, textEnd);
      // Indentation between elements is most of a pretty-printed file; it carries nothing.
      if (text.trim() !== '' || stack[stack.length - 1]!.text !== '') stack[stack.length - 1]!.text += decodeEntities(text);
    }
    if (lt === -1) break;
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt + 4);
      i = end === -1 ? n : end + 3;
    } else if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt + 9);
      stack[stack.length - 1]!.text += xml.slice(lt + 9, end === -1 ? n : end);
      i = end === -1 ? n : end + 3;
    } else if (xml.startsWith('<?', lt)) {
      const end = xml.indexOf('?>', lt + 2);
      i = end === -1 ? n : end + 2;
    } else if (xml.startsWith('<!', lt)) {
      // DOCTYPE, possibly with an internal subset in brackets.
      let j = lt + 2;
      let depth = 0;
      for (; j < n; j++) {
        const c = xml[j];
        if (c === '[') depth++;
        else if (c === ']') depth--;
        else if (c === '>' && depth <= 0) break;
      }
      i = j + 1;
    } else if (xml[lt + 1] === '/') {
      const end = xml.indexOf('>', lt);
      const name = xml.slice(lt + 2, end === -1 ? n : end).trim();
      // Close up to the matching element; a stray end tag is ignored.
      if (stack[stack.length - 1]!.name === name) stack.pop();
      else {
        const at = stack.map((e) => e.name).lastIndexOf(name);
        if (at > 0) stack.length = at;
      }
      i = end === -1 ? n : end + 1;
    } else {
      const end = findTagEnd(xml, lt + 1);
      const body = xml.slice(lt + 1, end);
      const selfClosing = body.endsWith('/');
      const inner = selfClosing ? body.slice(0, -1) : body;
      const m = /^\s*([^\s/>]+)([\s\S]*)$/.exec(inner);
      if (m) {
        const el: XmlElement = { name: m[1]!, attributes: parseAttributes(m[2] ?? ''), children: [], text: '' };
        stack[stack.length - 1]!.children.push(el);
        if (!selfClosing) stack.push(el);
      }
      i = end + 1;
    }
  }
  return root;
}

/** The index of the ">" ending a start tag, skipping quoted attribute values. */
function findTagEnd(xml: string, from: number): number {
  let quote: string | null = null;
  for (let j = from; j < xml.length; j++) {
    const c = xml[j];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return j;
  }
  return xml.length;
}

export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

export function childrenNamed(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

/** Trimmed text of the named child, or null. */
export function childText(el: XmlElement | undefined, name: string): string | null {
  const c = child(el, name);
  return c ? c.text.trim() : null;
}
