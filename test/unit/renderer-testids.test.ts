import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Every interactive element the renderer's JSX writes carries a literal `data-testid`, checked in the
 * source so that states the browser walk (test/e2e/test-ids.test.ts) cannot reach are held to it too.
 * Interactive, as in that walk: buttons, links with href, inputs (not hidden), selects, textareas,
 * summaries, an interactive ARIA role, tabIndex ≥ 0, or a click or key handler. A `<select>`'s own
 * `<option>`s are chosen through it by value and are not counted.
 */
const REPO = resolve(import.meta.dirname, '../..');
const RENDERER = join(REPO, 'src/renderer/src');

const TAGS = new Set(['button', 'select', 'textarea', 'summary', 'iframe']);
const ROLES = new Set(['button', 'link', 'radio', 'checkbox', 'tab', 'option', 'switch', 'slider', 'listbox', 'combobox', 'menuitem', 'menuitemcheckbox', 'menuitemradio', 'textbox', 'searchbox', 'spinbutton', 'treeitem']);
const HANDLERS = new Set(['onClick', 'onKeyDown', 'onKeyUp', 'onMouseDown', 'onPointerDown']);
/** The literal parts of a test id: lower case, digits and hyphens (keys come in through expressions). */
const LITERAL = /^[a-z0-9-]*$/;

function tsxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsxFiles(join(dir, e.name)) : e.name.endsWith('.tsx') ? [join(dir, e.name)] : []));
}

interface Found {
  readonly where: string;
  readonly tag: string;
  readonly why: string;
  /** The test id's literal parts; null when the element has none. */
  readonly literals: readonly string[] | null;
}

const attrs = (el: ts.JsxOpeningLikeElement) => el.attributes.properties.filter(ts.isJsxAttribute);
const attrName = (a: ts.JsxAttribute) => a.name.getText();

function stringValue(a: ts.JsxAttribute | undefined): string | null {
  const init = a?.initializer;
  if (!init) return null;
  if (ts.isStringLiteral(init)) return init.text;
  if (ts.isJsxExpression(init) && init.expression && ts.isStringLiteralLike(init.expression)) return init.expression.text;
  return null;
}

function numberValue(a: ts.JsxAttribute | undefined): number | null {
  const e = a?.initializer && ts.isJsxExpression(a.initializer) ? a.initializer.expression : undefined;
  if (!e) return null;
  if (ts.isNumericLiteral(e)) return Number(e.text);
  if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(e.operand)) return -Number(e.operand.text);
  return null;
}

/** Literal text of a test id: a string, or a template's head and spans (expressions left out). */
function testIdLiterals(a: ts.JsxAttribute): string[] {
  const init = a.initializer;
  if (init && ts.isStringLiteral(init)) return [init.text];
  const e = init && ts.isJsxExpression(init) ? init.expression : undefined;
  if (e && ts.isStringLiteralLike(e)) return [e.text];
  if (e && ts.isTemplateExpression(e)) return [e.head.text, ...e.templateSpans.map((s) => s.literal.text)];
  // Any other expression (a prop passed down): its literal parts are checked where they are written.
  return [];
}

function whyInteractive(el: ts.JsxOpeningLikeElement, tag: string): string | null {
  const byName = new Map(attrs(el).map((a) => [attrName(a), a]));
  if (tag === 'option') return null;
  if (TAGS.has(tag)) return tag;
  if (tag === 'input') return stringValue(byName.get('type')) === 'hidden' ? null : 'input';
  if ((tag === 'a' || tag === 'area') && byName.has('href')) return 'link';
  const role = stringValue(byName.get('role'));
  if (role && ROLES.has(role)) return `role=${role}`;
  if (byName.has('role') && role === null) return 'role (computed)';
  const tabIndex = byName.get('tabIndex');
  const n = numberValue(tabIndex);
  if (tabIndex && (n === null || n >= 0)) return `tabIndex=${n ?? '?'}`;
  const handler = [...byName.keys()].find((k) => HANDLERS.has(k));
  if (handler) return handler;
  return null;
}

function scan(file: string): Found[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: Found[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isJsxOpeningElement(node) || ts.isJsxSelfClosingElement(node)) {
      const tag = node.tagName.getText(source);
      // Lower-case names are DOM elements; components are checked where they write DOM elements.
      if (/^[a-z]/.test(tag)) {
        const why = whyInteractive(node, tag);
        if (why) {
          const testId = attrs(node).find((a) => attrName(a) === 'data-testid');
          const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
          found.push({ where: `${relative(REPO, file)}:${line + 1}`, tag, why, literals: testId ? testIdLiterals(testId) : null });
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('test ids in the renderer source', () => {
  const files = tsxFiles(RENDERER);
  const found = files.flatMap(scan);

  it('finds the interactive elements (the scan itself works)', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(found.length).toBeGreaterThan(60);
    console.log(`test ids (source): ${found.length} interactive JSX elements in ${files.length} files`);
  });

  it('gives every interactive element a data-testid', () => {
    const missing = found.filter((f) => f.literals === null).map((f) => `${f.where} <${f.tag}> (${f.why})`);
    expect(missing, 'interactive elements without data-testid').toEqual([]);
  });

  it('writes test ids in lower-case kebab case', () => {
    const bad = found.filter((f) => f.literals?.some((l) => !LITERAL.test(l))).map((f) => `${f.where}: ${f.literals!.join('…')}`);
    expect(bad).toEqual([]);
  });
});
