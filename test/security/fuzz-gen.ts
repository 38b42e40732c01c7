import { isUtf8 } from 'node:buffer';
import {
  MAX_JSON_DEPTH,
  MAX_MESSAGE_BYTES,
  METHODS,
  METHOD_NAMES,
  RPC_INVALID_PARAMS,
  RPC_INVALID_REQUEST,
  RPC_METHOD_NOT_FOUND,
  RPC_PARSE_ERROR,
  type MethodName,
} from '../../src/shared';

/**
 * Generator for the protocol fuzz test (fuzz.test.ts): malformed engine-protocol messages, each
 * built together with the answer the service must give, so the test never needs an oracle. Every
 * message is a byte string without "\n" (the line transports add it; over a WebSocket it is one
 * frame). Nothing generated here may make the engine do anything: a known method only ever comes
 * with params its own schema refuses, and `assertHarmless` checks that on every message built.
 */

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** mulberry32: a tiny 32-bit PRNG, good enough to make reproducible test input. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for one part of a run, derived from the run's seed and a label ("stdio/flood"). */
export function deriveSeed(seed: number, label: string): number {
  let h = seed >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x9e3779b1) >>> 0;
  return Math.floor(mulberry32(h)() * 4294967296) >>> 0;
}

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
}

// ---------------------------------------------------------------------------------------------
// Messages and what they must get

export type RpcId = string | number | null;

/** What the service must do with a message: answer once with this error, or not at all. */
export type Expectation =
  | { readonly reply: false }
  | {
      readonly reply: true;
      readonly code: number;
      /** The id the reply must carry: the request's own id when it is usable, else null. */
      readonly id: RpcId;
      /** error.data.code the reply must carry, when it carries one. */
      readonly dataCode?: string;
    };

export type Category =
  | 'garbage'
  | 'invalid-utf8'
  | 'truncated'
  | 'non-object'
  | 'deep'
  | 'oversized'
  | 'envelope'
  | 'unknown-method'
  | 'bad-params'
  | 'notification'
  | 'blank';

export interface FuzzMessage {
  readonly category: Category;
  /** The message, never containing "\n". */
  readonly data: Buffer;
  /** Whether `data` is valid UTF-8; if not, a WebSocket client must send it as a binary frame. */
  readonly utf8: boolean;
  readonly expect: Expectation;
  /** Over a WebSocket, when that differs: a blank line is skipped by the line transports, but a blank frame is a message. */
  readonly expectWs?: Expectation;
  /** A short description for failure messages. */
  readonly what: string;
}

const NONE: Expectation = { reply: false };
const parseError: Expectation = { reply: true, code: RPC_PARSE_ERROR, id: null };
const invalidRequest = (id: RpcId): Expectation => ({ reply: true, code: RPC_INVALID_REQUEST, id });
const methodNotFound = (id: RpcId): Expectation => ({ reply: true, code: RPC_METHOD_NOT_FOUND, id, dataCode: 'method-not-found' });
const invalidParams = (id: RpcId): Expectation => ({ reply: true, code: RPC_INVALID_PARAMS, id, dataCode: 'invalid-input' });
const tooLarge: Expectation = { reply: true, code: RPC_INVALID_REQUEST, id: null, dataCode: 'message-too-large' };

// ---------------------------------------------------------------------------------------------
// A JSON tree that can say what JSON.stringify cannot: duplicate keys, own "__proto__" keys,
// numbers written as 5.0 or 5e0, escaped characters, whitespace between tokens.

class JObj {
  constructor(readonly entries: Array<readonly [string, JVal]>) {}
}
/** JSON text used as it is (a number spelt oddly, a huge nest built by repetition). */
class JRaw {
  constructor(readonly text: string) {}
}
type JVal = null | boolean | number | string | JRaw | JObj | JVal[];

const obj = (entries: Array<readonly [string, JVal]>): JObj => new JObj(entries);

interface Style {
  /** Random whitespace between tokens (never "\n"). */
  readonly spaces: boolean;
  /** Random \uXXXX escapes inside strings. */
  readonly escapes: boolean;
  /** Integers sometimes written as 5.0, 5e0 or 50e-1. */
  readonly oddNumbers: boolean;
}
const PLAIN: Style = { spaces: false, escapes: false, oddNumbers: false };

const u4 = (c: number): string => `\\u${c.toString(16).padStart(4, '0')}`;

function renderString(s: string, rng: Rng, style: Style): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const next = s.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      // A surrogate pair: as the character itself, or as two escapes.
      out += style.escapes && rng.bool(0.2) ? u4(c) + u4(next) : s.slice(i, i + 2);
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += u4(c); // A lone surrogate cannot be written as UTF-8, only escaped.
    } else if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20) out += style.escapes && rng.bool(0.5) ? JSON.stringify(s[i]).slice(1, -1) : u4(c);
    else if (style.escapes && rng.bool(0.08)) out += c === 0x2f && rng.bool(0.5) ? '\\/' : u4(c);
    else out += s[i];
  }
  return `${out}"`;
}

function renderNumber(n: number, rng: Rng, style: Style): string {
  if (!Number.isFinite(n)) throw new Error(`not a JSON number: ${n}`);
  if (style.oddNumbers && Number.isSafeInteger(n) && !Object.is(n, -0) && rng.bool(0.3)) {
    const form = rng.int(0, 2);
    if (form === 0) return `${n}.0`;
    if (form === 1) return `${n}e0`;
    if (Math.abs(n) < 1e14) return `${n * 10}e-1`;
  }
  return JSON.stringify(n);
}

function ws(rng: Rng, style: Style): string {
  if (!style.spaces || !rng.bool(0.3)) return '';
  let s = '';
  for (let i = rng.int(1, 3); i > 0; i--) s += rng.pick([' ', '\t', '\r', '  ']);
  return s;
}

function render(v: JVal, rng: Rng, style: Style = PLAIN): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return renderNumber(v, rng, style);
  if (typeof v === 'string') return renderString(v, rng, style);
  if (v instanceof JRaw) return v.text;
  if (Array.isArray(v)) return `[${v.map((x) => ws(rng, style) + render(x, rng, style) + ws(rng, style)).join(',')}]`;
  const parts = v.entries.map(([k, x]) => `${ws(rng, style)}${renderString(k, rng, style)}${ws(rng, style)}:${ws(rng, style)}${render(x, rng, style)}${ws(rng, style)}`);
  return `{${parts.join(',')}}`;
}

// ---------------------------------------------------------------------------------------------
// Random values

/** Keys that matter to JavaScript objects: what a prototype-pollution attempt would use. */
export const PROTO_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'toJSON',
  'then',
];

/** The key a pollution payload tries to plant on Object.prototype; a later getInfo must not show it. */
export const POLLUTION_MARK = 'polluted';

/** Field names of every method's params, so wrong values land on the names the engine reads. */
const FIELD_NAMES: readonly string[] = [...new Set(METHOD_NAMES.flatMap((m) => Object.keys(METHODS[m].params.shape)))];

const STRING_CHARS = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ...' -_./:;,!?#$%&*+=<>|~^`\'"\\{}[]()@',
  '\u0000',
  '\u0001',
  '\u001f',
  '\t',
  '\r',
  '\n',
  '\u007f',
  'é',
  'ß',
  '€',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ufffd',
  '漢',
  '😀',
  '🏳️‍🌈',
  '\ud800',
  '\udfff',
];

function randomString(rng: Rng, max = 24): string {
  const n = rng.bool(0.03) ? rng.int(200, 2000) : rng.int(0, max);
  let s = '';
  for (let i = 0; i < n; i++) s += rng.pick(STRING_CHARS);
  return s;
}

const NUMBERS: readonly number[] = [0, 1, -1, 2, 42, -7, 0.5, -0.25, 1e-7, 3.14159, 2 ** 31, 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 1e21, 1e308, -1e308, 5e-324];
const NUMBER_TEXTS: readonly string[] = ['-0', '0.0', '1E5', '1e+2', '1.5e-3', '123456789012345678901234567890', '1e999', '-1e999', '0.00000000000000000001'];

function randomKey(rng: Rng): string {
  const r = rng.float();
  if (r < 0.35) return rng.pick(FIELD_NAMES);
  if (r < 0.55) return rng.pick(PROTO_KEYS);
  return randomString(rng, 12);
}

function randomValue(rng: Rng, depth: number): JVal {
  switch (rng.int(0, depth <= 0 ? 5 : 9)) {
    case 0:
      return null;
    case 1:
      return rng.bool();
    case 2:
      return rng.pick(NUMBERS);
    case 3:
      return new JRaw(rng.pick(NUMBER_TEXTS));
    case 4:
    case 5:
      return randomString(rng);
    case 6:
    case 7:
      return Array.from({ length: rng.int(0, 4) }, () => randomValue(rng, depth - 1));
    case 8:
      return obj(Array.from({ length: rng.int(0, 4) }, () => [randomKey(rng), randomValue(rng, depth - 1)] as const));
    default:
      return pollution(rng);
  }
}

/** A payload that would pollute Object.prototype if the service ever merged it into an object. */
function pollution(rng: Rng): JObj {
  const mark = obj([[POLLUTION_MARK, rng.pick<JVal>([true, 1, 'yes'])]]);
  switch (rng.int(0, 3)) {
    case 0:
      return obj([['__proto__', mark]]);
    case 1:
      return obj([['constructor', obj([['prototype', mark]])]]);
    case 2:
      return obj([['__proto__', obj([[POLLUTION_MARK, true], ['toString', 'x'], ['valueOf', 1], ['hasOwnProperty', null], ['jsonrpc', '2.0']])]]);
    default:
      return obj([['a', obj([['__proto__', obj([['__proto__', mark]])]])]]);
  }
}

/** A random params object (always an object: anything else is an envelope error). */
function randomParams(rng: Rng): JObj {
  if (rng.bool(0.25)) return pollution(rng);
  return obj(Array.from({ length: rng.int(1, 5) }, () => [randomKey(rng), randomValue(rng, 3)] as const));
}

/** Valid-looking params per method; mutated until the method's own schema refuses them. */
const TEMPLATES: Readonly<Record<MethodName, () => JObj>> = {
  getInfo: () => obj([]),
  listDisks: () => obj([]),
  validateAnswerFile: () => obj([['document', obj([])]]),
  planInstall: () => obj([['request', obj([])]]),
  startInstall: () => obj([['planId', 'plan-1']]),
  cancelInstall: () => obj([]),
  retryInstall: () => obj([]),
  getInstallState: () => obj([]),
  listKeyboardLayouts: () => obj([]),
  setKeyboard: () => obj([['layout', 'us'], ['variant', 'intl']]),
  listTimeZones: () => obj([]),
  checkRequirements: () => obj([['minimumMemory', 4294967296], ['firmware', 'any']]),
  inspectImage: () => obj([['image', obj([['reference', 'quay.io/example/os:1'], ['transport', 'registry']])]]),
  exportAnswerFile: () => obj([['request', obj([])]]),
  listSaveTargets: () => obj([]),
  saveFile: () => obj([['kind', 'log-bundle'], ['target', obj([['type', 'download']])]]),
  generateRecoveryKey: () => obj([]),
  power: () => obj([['action', 'reboot']]),
};

const WRONG_VALUES: readonly JVal[] = [null, true, false, 0, -1, 1.5, 2 ** 60, '', ' ', '-rf', '../../etc/passwd', '/dev/sda', 'x'.repeat(600), [], [1], obj([]), obj([['type', 'device'], ['path', '/dev/sda']])];

/** Params for `method` that its schema refuses, wrong by type, by an extra key, by a missing one, or at random. */
function badParams(rng: Rng, method: MethodName): JObj {
  const template = TEMPLATES[method]().entries.slice();
  switch (rng.int(0, 4)) {
    case 0:
      return randomParams(rng);
    case 1: {
      // One value of the wrong type or shape.
      if (template.length === 0) return obj([[randomKey(rng), rng.pick(WRONG_VALUES)]]);
      const i = rng.int(0, template.length - 1);
      template[i] = [template[i]![0], rng.pick(WRONG_VALUES)];
      return obj(template);
    }
    case 2:
      // Every schema is strict: one key too many.
      return obj(rng.shuffle([...template, [randomKey(rng), randomValue(rng, 2)]]));
    case 3:
      // A required key missing (for methods without params this adds one, which is also wrong).
      return template.length > 0 ? obj(template.slice(1)) : obj([[rng.pick(FIELD_NAMES), randomValue(rng, 1)]]);
    default:
      // Right keys, all values wrong.
      return obj(template.length > 0 ? template.map(([k]) => [k, randomValue(rng, 2)] as const) : [['__proto__', obj([[POLLUTION_MARK, 1]])]]);
  }
}

// ---------------------------------------------------------------------------------------------
// Ids

const WRONG_IDS: readonly JVal[] = [true, false, obj([]), obj([['id', 1]]), [], [1], 1.5, -0.5, 2 ** 53, -(2 ** 53), 1e300, new JRaw('1e999'), new JRaw('9007199254740993')];

/** Unique request ids of every allowed shape, so each reply can be matched to its message. */
export class IdSource {
  private n = 0;
  constructor(
    private readonly prefix: string,
    /** Numbers handed out start here; give each phase its own range. */
    private readonly numberBase: number,
  ) {
    if (!Number.isSafeInteger(numberBase + 1e8) || numberBase < 1) throw new Error('numberBase out of range');
  }

  next(rng: Rng): string | number {
    const n = this.n++;
    if (n >= 1e8) throw new Error('too many ids for one IdSource');
    switch (rng.int(0, 7)) {
      case 0:
      case 1:
        return this.numberBase + n;
      case 2:
        return -(this.numberBase + n);
      case 3:
        // Up at the top of the safe range, still exact.
        return Number.MAX_SAFE_INTEGER - this.numberBase - n;
      case 4:
        return `${this.prefix}${n}`;
      case 5:
        return `${this.prefix}${n}-ü€😀`;
      case 6: {
        // Exactly 128 UTF-16 units: the longest id allowed.
        const base = `${this.prefix}${n}:`;
        return base + 'x'.repeat(128 - base.length);
      }
      default:
        return `${this.prefix}${n}\ud800\u2028"\\`;
    }
  }

  /** An id string one unit too long (the reply must then carry null). */
  tooLong(): string {
    const base = `${this.prefix}${this.n++}:`;
    return base + 'y'.repeat(129 - base.length);
  }
}

// ---------------------------------------------------------------------------------------------
// Safety net

/** Methods that only read, which an envelope test may name with empty params. */
const HARMLESS = new Set<string>(['getInfo', 'getInstallState']);
// As the service decodes: bad bytes become U+FFFD, and a byte order mark stays (it is not JSON).
const decoder = { decode: (b: Buffer): string => b.toString('utf8') };

function isKnown(method: unknown): method is MethodName {
  return typeof method === 'string' && (METHOD_NAMES as readonly string[]).includes(method);
}

/**
 * Throws if a message could make the engine act: a known method (other than a harmless read) with
 * params its schema accepts, anywhere in the message (a batch element included).
 */
export function assertHarmless(data: Buffer): void {
  if (data.length > MAX_MESSAGE_BYTES) return; // dropped unread by every transport
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    return;
  }
  // The message itself, or the elements of a batch: the only places a call could be read from.
  const check = (v: unknown, batch: boolean): void => {
    if (Array.isArray(v)) {
      if (batch) v.forEach((x) => check(x, false));
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const m = (v as Record<string, unknown>).method;
    if (isKnown(m) && !HARMLESS.has(m) && METHODS[m].params.safeParse((v as Record<string, unknown>).params ?? {}).success) {
      throw new Error(`fuzz generator made a valid ${m} call: ${decoder.decode(data).slice(0, 300)}`);
    }
  };
  check(value, true);
}

/** For messages that must reach the params check: the parsed params must be refused by the method's schema. */
function paramsRefused(data: Buffer): boolean {
  const v = JSON.parse(decoder.decode(data)) as Record<string, unknown>;
  const m = v.method;
  if (!isKnown(m)) throw new Error(`expected a known method in ${decoder.decode(data).slice(0, 200)}`);
  return !METHODS[m].params.safeParse(v.params ?? {}).success;
}

// ---------------------------------------------------------------------------------------------
// Builders, one per category

interface Ctx {
  readonly rng: Rng;
  readonly ids: IdSource;
}

/**
 * Checks the generator's own claim about a message (not the service's answer): that what is
 * meant to be unparsable is, what is meant to parse does, and what must be refused for its params
 * (or is a notification naming a known method) has params the method's schema refuses.
 */
function checkClaim(buf: Buffer, e: Expectation, what: string): void {
  const fail = (why: string): never => {
    throw new Error(`fuzz generator: ${what}: ${why}: ${decoder.decode(buf.subarray(0, 200))}`);
  };
  if (buf.length > MAX_MESSAGE_BYTES) {
    if (!e.reply || e.dataCode !== 'message-too-large') fail('an oversized message must be refused as too large');
    return;
  }
  const text = decoder.decode(buf);
  let parsed: unknown;
  let parses = true;
  try {
    parsed = JSON.parse(text);
  } catch {
    parses = false;
  }
  if (e.reply && e.code === RPC_PARSE_ERROR) {
    if (parses) fail('meant to be invalid JSON, but it parses');
    return;
  }
  if (!parses) {
    if (!e.reply && text.trim() === '') return; // a blank line
    fail('meant to parse, but it does not');
  }
  const method = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>).method : undefined;
  if ((e.reply && e.code === RPC_INVALID_PARAMS) || (!e.reply && isKnown(method))) {
    if (!paramsRefused(buf)) fail("the method's schema accepts these params");
  }
}

function message(category: Category, data: Buffer | string, expect: Expectation, what: string, expectWs?: Expectation): FuzzMessage {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (buf.includes(0x0a)) throw new Error(`fuzz message contains a newline: ${what}`);
  assertHarmless(buf);
  checkClaim(buf, expect, what);
  if (expectWs) checkClaim(buf, expectWs, what);
  return { category, data: buf, utf8: isUtf8(buf), expect, what, ...(expectWs ? { expectWs } : {}) };
}

function randomStyle(rng: Rng): Style {
  return { spaces: rng.bool(0.3), escapes: rng.bool(0.3), oddNumbers: rng.bool(0.3) };
}

/** An envelope object in a random key order. */
function envelope(rng: Rng, entries: Array<readonly [string, JVal]>): JObj {
  return obj(rng.bool(0.5) ? rng.shuffle(entries.slice()) : entries);
}

const UNKNOWN_METHODS = [
  ...PROTO_KEYS,
  'getinfo',
  'GetInfo',
  'getInfo ',
  ' getInfo',
  'getInfo\u0000',
  'get_info',
  'getInfo/',
  'event.disksChanged',
  'event.progress',
  'rpc.discover',
  'system.listMethods',
  'handlers',
  'installer',
  'startInstall.call',
  'length',
  'name',
  'apply',
  'bind',
  '😀',
  '\ud800',
  'x'.repeat(128),
];

function unknownMethod(rng: Rng): string {
  for (;;) {
    const m = rng.bool(0.6) ? rng.pick(UNKNOWN_METHODS) : randomString(rng, 40);
    if (m.length >= 1 && m.length <= 128 && !isKnown(m)) return m;
  }
}

// Garbage that can never be JSON: it starts with a character no JSON text starts with.
const BAD_STARTS = ['#', '@', '}', ']', ':', ',', 'x', '\u0001', '\u0000', '=', '<', "'", '\\', ')'];
const NOT_JSON = [
  'getInfo',
  '{jsonrpc:"2.0"}',
  "{'jsonrpc':'2.0','id':1,'method':'getInfo'}",
  'undefined',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x10',
  '01',
  '+1',
  '.5',
  '1.',
  '[1,]',
  '{"a":1,}',
  '"unterminated',
  'tru',
  'nul',
  '{"a" 1}',
  '// {"jsonrpc":"2.0"}',
  '/*c*/{}',
  '{"jsonrpc":"2.0","id":1,"method":"getInfo"}}',
  '{"jsonrpc":"2.0","id":1,"method":"getInfo"} {"jsonrpc":"2.0","id":2,"method":"getInfo"}',
  '{"jsonrpc":"2.0"\u0000,"id":1}',
  '"\u0001"',
  '["\\x41"]',
  '["\\u12"]',
  '\ufeff{"jsonrpc":"2.0","id":1,"method":"getInfo"}',
  '{"a":"\\ud800\\"}',
  '[[[[[[[[[[',
  ']]]]]]]]',
];

function garbage(c: Ctx): FuzzMessage {
  const { rng } = c;
  if (rng.bool(0.4)) {
    const text = rng.pick(NOT_JSON);
    return message('garbage', text, parseError, `not JSON: ${JSON.stringify(text).slice(0, 60)}`);
  }
  const start = Buffer.from(rng.pick(BAD_STARTS), 'utf8');
  const body = rng.bytes(rng.int(0, 200));
  for (let i = 0; i < body.length; i++) if (body[i] === 0x0a) body[i] = 0x20;
  return message('garbage', Buffer.concat([start, body]), parseError, 'random bytes');
}

/** Byte sequences that are not UTF-8: lone continuation bytes, overlong forms, surrogates, truncations. */
const BAD_UTF8: readonly number[][] = [
  [0xff],
  [0xfe],
  [0x80],
  [0xbf],
  [0xc0, 0xaf],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
  [0xc3],
];

function badUtf8(rng: Rng): Buffer {
  // One sequence, maybe repeated: two different ones could join into a valid character (C3 + 80).
  const seq = Buffer.from(rng.pick(BAD_UTF8));
  return Buffer.concat(Array.from({ length: rng.int(1, 3) }, () => seq));
}

function invalidUtf8(c: Ctx): FuzzMessage {
  const { rng, ids } = c;
  const bad = badUtf8(rng);
  const id = ids.next(rng);
  const idText = render(id, rng);
  switch (rng.int(0, 4)) {
    case 0:
      // Decoded with replacement characters the method name is an unknown one.
      return message('invalid-utf8', Buffer.concat([Buffer.from(`{"jsonrpc":"2.0","id":${idText},"method":"m`), bad, Buffer.from('"}')]), methodNotFound(id), 'bad UTF-8 in method');
    case 1: {
      const m = rng.pick(METHOD_NAMES);
      const data = Buffer.concat([Buffer.from(`{"jsonrpc":"2.0","id":${idText},"method":"${m}","params":{"zz":"`), bad, Buffer.from('"}}')]);
      return message('invalid-utf8', data, invalidParams(id), `bad UTF-8 in params of ${m}`);
    }
    case 2:
      // Outside any string: a replacement character where JSON allows none.
      return message('invalid-utf8', Buffer.concat([Buffer.from(`{"jsonrpc":"2.0",`), bad, Buffer.from(`"id":${idText},"method":"getInfo"}`)]), parseError, 'bad UTF-8 between tokens');
    case 3:
      return message('invalid-utf8', Buffer.concat([Buffer.from(rng.pick(BAD_STARTS)), bad, rng.bytes(rng.int(0, 20)).map((b) => (b === 0x0a ? 0x20 : b))]), parseError, 'bad UTF-8 garbage');
    default:
      // A notification: no reply, however broken the method name.
      return message('invalid-utf8', Buffer.concat([Buffer.from('{"jsonrpc":"2.0","method":"n'), bad, Buffer.from('","params":{}}')]), NONE, 'bad UTF-8 in a notification');
  }
}

/** A well-formed request that must be refused for its params or its method (the raw material of other categories). */
function refusedRequest(c: Ctx, id: JVal | undefined): { body: JObj; method: string; known: boolean } {
  const { rng } = c;
  const known = rng.bool(0.6);
  const method = known ? rng.pick(METHOD_NAMES) : unknownMethod(rng);
  const entries: Array<readonly [string, JVal]> = [['jsonrpc', '2.0'], ['method', method]];
  if (id !== undefined) entries.push(['id', id]);
  if (known) entries.push(['params', badParams(rng, method as MethodName)]);
  else if (rng.bool(0.7)) entries.push(['params', randomParams(rng)]);
  return { body: envelope(rng, entries), method, known };
}

/** Builds a request that reaches the method or params check, retrying until its params are certainly refused. */
function requestMessage(c: Ctx, category: Category, notification: boolean): FuzzMessage {
  const { rng, ids } = c;
  for (let attempt = 0; attempt < 100; attempt++) {
    const id = notification ? undefined : ids.next(rng);
    const r = refusedRequest(c, id);
    const data = Buffer.from(render(r.body, rng, randomStyle(rng)), 'utf8');
    if (data.length > MAX_MESSAGE_BYTES) continue;
    if (r.known && !paramsRefused(data)) continue;
    const expect: Expectation = notification ? NONE : r.known ? invalidParams(id!) : methodNotFound(id!);
    return message(category, data, expect, `${notification ? 'notification' : 'request'} ${JSON.stringify(r.method).slice(0, 40)}`);
  }
  throw new Error('could not build a refused request in 100 attempts');
}

function unknownMethodMessage(c: Ctx): FuzzMessage {
  const { rng, ids } = c;
  const id = ids.next(rng);
  const method = unknownMethod(rng);
  const entries: Array<readonly [string, JVal]> = [['jsonrpc', '2.0'], ['id', id], ['method', method]];
  if (rng.bool(0.6)) entries.push(['params', rng.bool(0.3) ? obj([]) : randomParams(rng)]);
  return message('unknown-method', render(envelope(rng, entries), rng, randomStyle(rng)), methodNotFound(id), `unknown method ${JSON.stringify(method).slice(0, 40)}`);
}

function badParamsMessage(c: Ctx): FuzzMessage {
  const { rng, ids } = c;
  for (let attempt = 0; attempt < 100; attempt++) {
    const id = ids.next(rng);
    const method = rng.pick(METHOD_NAMES);
    const data = Buffer.from(render(envelope(rng, [['jsonrpc', '2.0'], ['id', id], ['method', method], ['params', badParams(rng, method)]]), rng, randomStyle(rng)), 'utf8');
    if (data.length <= MAX_MESSAGE_BYTES && paramsRefused(data)) return message('bad-params', data, invalidParams(id), `bad params for ${method}`);
  }
  throw new Error('could not build refused params in 100 attempts');
}

function truncated(c: Ctx): FuzzMessage {
  const { rng } = c;
  const full = requestMessage(c, 'truncated', rng.bool(0.3)).data;
  // Any prefix that stops before the object's closing brace is not JSON.
  const open = full.indexOf(0x7b);
  const close = full.lastIndexOf(0x7d);
  const cut = rng.int(open + 1, close);
  return message('truncated', full.subarray(0, cut), parseError, `truncated at ${cut}/${full.length}`);
}

function nonObject(c: Ctx): FuzzMessage {
  const { rng, ids } = c;
  switch (rng.int(0, 6)) {
    case 0:
      return message('non-object', render(rng.pick(NUMBERS), rng), invalidRequest(null), 'a number');
    case 1:
      return message('non-object', rng.pick(NUMBER_TEXTS), invalidRequest(null), 'a number spelt oddly');
    case 2:
      return message('non-object', render(rng.bool() ? '{"jsonrpc":"2.0","id":1,"method":"getInfo"}' : randomString(rng), rng), invalidRequest(null), 'a string');
    case 3:
      return message('non-object', rng.pick(['true', 'false', 'null', ' null ', '\tnull\r']), invalidRequest(null), 'a literal');
    case 4:
      return message('non-object', render(Array.from({ length: rng.int(0, 3) }, () => randomValue(rng, 2)), rng, randomStyle(rng)), invalidRequest(null), 'an array');
    default: {
      // A batch of requests: refused as a whole with one reply, and none of its requests answered.
      const n = rng.int(0, 4);
      const items: JVal[] = Array.from({ length: n }, () => obj([['jsonrpc', '2.0'], ['id', ids.next(rng)], ['method', 'getInfo']]));
      return message('non-object', render(items, rng, randomStyle(rng)), invalidRequest(null), `a batch of ${n}`);
    }
  }
}

/** n nested arrays, built by repetition (a recursive renderer would overflow the stack). */
const nestedArrays = (n: number): JRaw => new JRaw('['.repeat(n) + ']'.repeat(n));
const nestedObjects = (n: number): JRaw => new JRaw('{"a":'.repeat(n - 1) + '{}' + '}'.repeat(n - 1));

/** Where a value placed as params.x sits: the message object is at depth 1, params at 2, x at 3. */
const X_DEPTH = 3;

function deep(c: Ctx, kind?: number): FuzzMessage {
  const { rng, ids } = c;
  const id = ids.next(rng);
  const asX = (v: JVal): string => render(obj([['jsonrpc', '2.0'], ['id', id], ['method', 'getInfo'], ['params', obj([['x', v]])]]), rng);
  switch (kind ?? rng.int(0, 4)) {
    case 0: {
      // Deepest value exactly at MAX_JSON_DEPTH: allowed through, so getInfo's strict params refuse it.
      const levels = MAX_JSON_DEPTH - X_DEPTH + 1;
      return message('deep', asX(rng.bool() ? nestedArrays(levels) : nestedObjects(levels)), invalidParams(id), `depth exactly ${MAX_JSON_DEPTH}`);
    }
    case 1: {
      // One level past the limit, or a good deal more: refused as too deep, with the id still on the reply.
      const levels = rng.bool(0.5) ? MAX_JSON_DEPTH - X_DEPTH + 2 : rng.int(MAX_JSON_DEPTH, 5000);
      return message('deep', asX(rng.bool() ? nestedArrays(levels) : nestedObjects(levels)), invalidRequest(id), `depth ${levels + X_DEPTH - 1}`);
    }
    case 2: {
      const levels = rng.int(MAX_JSON_DEPTH + 1, 3000);
      return message('deep', render(nestedArrays(levels), rng), invalidRequest(null), `top-level arrays ${levels} deep`);
    }
    case 3: {
      // A deep notification is not a valid notification: it is refused like any invalid request.
      const levels = rng.int(MAX_JSON_DEPTH, 2000);
      return message('deep', render(obj([['jsonrpc', '2.0'], ['method', 'getInfo'], ['params', obj([['x', nestedArrays(levels)]])]]), rng), invalidRequest(null), `deep notification ${levels}`);
    }
    default:
      return veryDeep(c, rng.int(0, 2), id);
  }
}

const VERY_DEEP = 100_000;

function veryDeep(c: Ctx, kind: number, id: string | number): FuzzMessage {
  const { rng } = c;
  if (kind === 0) return message('deep', render(nestedArrays(VERY_DEEP), rng), invalidRequest(null), `${VERY_DEEP} nested arrays`);
  if (kind === 1) {
    const text = render(obj([['jsonrpc', '2.0'], ['id', id], ['method', 'getInfo'], ['params', obj([['x', nestedObjects(VERY_DEEP)]])]]), rng);
    return message('deep', text, invalidRequest(id), `${VERY_DEEP} nested objects in params`);
  }
  // Never closed: not JSON at all.
  return message('deep', '['.repeat(VERY_DEEP), parseError, `${VERY_DEEP} unclosed arrays`);
}

/** A getInfo request padded to exactly `bytes` bytes of UTF-8 (its params are refused by getInfo's strict schema). */
function padded(c: Ctx, bytes: number, id: string | number, unit = 'x'): Buffer {
  const head = Buffer.from(`{"jsonrpc":"2.0","id":${render(id, c.rng)},"method":"getInfo","params":{"pad":"`);
  const tail = Buffer.from('"}}');
  const room = bytes - head.length - tail.length;
  const unitBytes = Buffer.byteLength(unit);
  const fill = Buffer.from(unit.repeat(Math.floor(room / unitBytes)) + 'x'.repeat(room % unitBytes));
  const out = Buffer.concat([head, fill, tail]);
  if (out.length !== bytes) throw new Error(`padding miscounted: ${out.length} != ${bytes}`);
  return out;
}

function oversized(c: Ctx, kind?: number): FuzzMessage {
  const { rng, ids } = c;
  const id = ids.next(rng);
  switch (kind ?? rng.int(0, 4)) {
    case 0:
      // Exactly at the limit: read, and refused only for its params.
      return message('oversized', padded(c, MAX_MESSAGE_BYTES, id), invalidParams(id), 'exactly MAX_MESSAGE_BYTES');
    case 1:
      return message('oversized', padded(c, MAX_MESSAGE_BYTES + 1, id), tooLarge, 'MAX_MESSAGE_BYTES + 1');
    case 2:
      // Under the limit in characters, over it in bytes.
      return message('oversized', padded(c, MAX_MESSAGE_BYTES + 3, id, '€'), tooLarge, 'multi-byte, over the limit in bytes only');
    case 3: {
      const size = rng.int(MAX_MESSAGE_BYTES + 1, 2 * MAX_MESSAGE_BYTES);
      return message('oversized', padded(c, size, id), tooLarge, `${size} bytes`);
    }
    default: {
      const size = rng.int(MAX_MESSAGE_BYTES + 1, Math.floor(1.5 * MAX_MESSAGE_BYTES));
      const fill = Buffer.alloc(size - 1, 0x5b); // '[' repeated: never parsed, so never a problem
      return message('oversized', Buffer.concat([Buffer.from('#'), fill]), tooLarge, `${size} bytes of garbage`);
    }
  }
}

/** A broken envelope. The id on the reply is the request's when usable, else null. */
function envelopeMessage(c: Ctx, kind?: number): FuzzMessage {
  const { rng, ids } = c;
  const goodId = ids.next(rng);
  const method = rng.bool(0.5) ? 'getInfo' : unknownMethod(rng);
  const base = (): Array<[string, JVal]> => [
    ['jsonrpc', '2.0'],
    ['id', goodId],
    ['method', method],
  ];
  const set = (entries: Array<[string, JVal]>, key: string, value: JVal | undefined): Array<[string, JVal]> =>
    value === undefined ? entries.filter(([k]) => k !== key) : entries.map(([k, v]) => [k, k === key ? value : v]);
  const done = (entries: Array<[string, JVal]>, expect: Expectation, what: string): FuzzMessage =>
    message('envelope', render(envelope(rng, entries), rng, randomStyle(rng)), expect, what);

  switch (kind ?? rng.int(0, 8)) {
    case 0: {
      const v = rng.pick<JVal | undefined>([undefined, '1.0', '2', 2, new JRaw('2.0'), '2.0 ', '', null, true, ['2.0'], obj([['v', '2.0']])]);
      return done(set(base(), 'jsonrpc', v), invalidRequest(goodId), `jsonrpc ${v === undefined ? 'missing' : render(v, rng)}`);
    }
    case 1: {
      const v = rng.pick<JVal | undefined>([undefined, 123, null, true, [], obj([]), '', 'm'.repeat(129), ['getInfo']]);
      return done(set(base(), 'method', v), invalidRequest(goodId), 'method of the wrong type or length');
    }
    case 2: {
      const v = rng.bool(0.3) ? ids.tooLong() : rng.pick(WRONG_IDS);
      return done(set(base(), 'id', v), invalidRequest(null), 'id of the wrong type or too long');
    }
    case 3: {
      const v = rng.pick<JVal>([[], [1, 2], 'params', 1, true, null, [obj([['planId', 'x']])]]);
      return done([...base(), ['params', v]], invalidRequest(goodId), 'params not an object');
    }
    case 4: {
      const key = rng.pick(['extra', 'result', 'error', '__proto__', 'constructor', 'ID', 'Method', 'params ', 'jsonrpc ']);
      const value = key === '__proto__' ? obj([[POLLUTION_MARK, true]]) : randomValue(rng, 1);
      return done([...base(), [key, value]], invalidRequest(goodId), `extra member ${key}`);
    }
    case 5:
      // Several faults at once, none of them with a usable id.
      return done([['jsonrpc', '1.0'], ['id', rng.pick(WRONG_IDS)], ['method', 7]], invalidRequest(null), 'everything wrong');
    case 6:
      // Missing jsonrpc and no id: not a notification, an invalid request.
      return done([['method', method], ['params', obj([])]], invalidRequest(null), 'no jsonrpc, no id');
    case 7: {
      // Duplicate members: JSON.parse keeps the last, so a broken first value is overridden.
      const which = rng.int(0, 2);
      const entries: Array<[string, JVal]> =
        which === 0
          ? [['jsonrpc', '1.0'], ['jsonrpc', '2.0'], ['id', goodId], ['method', unknownMethod(rng)]]
          : which === 1
            ? [['jsonrpc', '2.0'], ['id', true], ['id', goodId], ['method', unknownMethod(rng)]]
            : [['jsonrpc', '2.0'], ['id', goodId], ['method', 'getInfo'], ['method', unknownMethod(rng)]];
      return message('envelope', render(obj(entries), rng), methodNotFound(goodId), 'duplicate members, the last one good');
    }
    default: {
      // Duplicate members the other way round: the last one is broken.
      const entries: Array<[string, JVal]> = [['jsonrpc', '2.0'], ['id', goodId], ['method', 'getInfo'], ['jsonrpc', '2']];
      return message('envelope', render(obj(entries), rng), invalidRequest(goodId), 'duplicate members, the last one broken');
    }
  }
}

function blank(c: Ctx): FuzzMessage {
  const text = c.rng.pick(['', ' ', '\t', '\r', ' \t \r', '   ']);
  return message('blank', text, NONE, `blank ${JSON.stringify(text)}`, parseError);
}

/** Category weights for the random part of a run (the oversized and very deep ones are costly, so rare). */
const WEIGHTS: ReadonlyArray<readonly [number, (c: Ctx) => FuzzMessage]> = [
  [8, garbage],
  [5, invalidUtf8],
  [8, truncated],
  [8, nonObject],
  [4, (c) => deep(c, c.rng.int(0, 3))],
  [0.25, (c) => veryDeep(c, c.rng.int(0, 2), c.ids.next(c.rng))],
  [0.3, (c) => oversized(c, c.rng.int(1, 4))],
  [18, (c) => envelopeMessage(c)],
  [13, unknownMethodMessage],
  [22, badParamsMessage],
  [9, (c) => requestMessage(c, 'notification', true)],
  [1, blank],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((s, [w]) => s + w, 0);

/** One of every special case, so even a short run covers each boundary. */
function mandatory(c: Ctx): FuzzMessage[] {
  const out: FuzzMessage[] = [];
  for (let k = 0; k <= 4; k++) out.push(oversized(c, k));
  for (let k = 0; k <= 3; k++) out.push(deep(c, k));
  for (let k = 0; k <= 2; k++) out.push(veryDeep(c, k, c.ids.next(c.rng)));
  for (let k = 0; k <= 8; k++) out.push(envelopeMessage(c, k));
  out.push(blank(c), garbage(c), invalidUtf8(c), truncated(c), nonObject(c), unknownMethodMessage(c), badParamsMessage(c));
  out.push(requestMessage(c, 'notification', true));
  // Prototype pollution, spelt out: at the top level, in params of a known and of an unknown method, and as a notification.
  const mark = obj([[POLLUTION_MARK, true]]);
  for (const m of METHOD_NAMES) {
    const id = c.ids.next(c.rng);
    out.push(message('bad-params', render(obj([['jsonrpc', '2.0'], ['id', id], ['method', m], ['params', obj([['__proto__', mark]])]]), c.rng), invalidParams(id), `__proto__ in params of ${m}`));
  }
  const id1 = c.ids.next(c.rng);
  out.push(message('envelope', render(obj([['__proto__', mark], ['jsonrpc', '2.0'], ['id', id1], ['method', 'getInfo']]), c.rng), invalidRequest(id1), '__proto__ member'));
  for (const m of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype']) {
    const id = c.ids.next(c.rng);
    out.push(message('unknown-method', render(obj([['jsonrpc', '2.0'], ['id', id], ['method', m], ['params', obj([['__proto__', mark], ['constructor', obj([['prototype', mark]])]])]]), c.rng), methodNotFound(id), `method ${m}`));
    out.push(message('notification', render(obj([['jsonrpc', '2.0'], ['method', m], ['params', obj([['__proto__', mark]])]]), c.rng), NONE, `notification ${m}`));
  }
  return out;
}

/**
 * `count` messages (at least the mandatory special cases), in a random order. Ids come from
 * `ids`, so two calls with different IdSources never share one.
 */
export function generateMessages(seed: number, count: number, ids: IdSource): FuzzMessage[] {
  const c: Ctx = { rng: new Rng(seed), ids };
  const out = mandatory(c);
  while (out.length < count) {
    let r = c.rng.float() * TOTAL_WEIGHT;
    let make = WEIGHTS[WEIGHTS.length - 1]![1];
    for (const [w, f] of WEIGHTS) {
      if (r < w) {
        make = f;
        break;
      }
      r -= w;
    }
    out.push(make(c));
  }
  return c.rng.shuffle(out);
}

/** What a run of messages must produce: replies by id, null-id replies by kind, and how many in all. */
export interface ExpectedReplies {
  readonly byId: Map<string, { code: number; dataCode?: string; what: string }>;
  /** Null-id replies, counted by `replyKind`. */
  readonly nullKinds: Map<string, number>;
  readonly total: number;
}

/** A key for a reply id that keeps 1 and "1" apart. */
export function idKey(id: string | number): string {
  return `${typeof id}:${String(id)}`;
}

/** How null-id replies are told apart: code and error.data.code. */
export function replyKind(code: number, dataCode: string | undefined): string {
  return `${code}/${dataCode ?? '-'}`;
}

export function expectedReplies(messages: readonly FuzzMessage[], overWebSocket: boolean): ExpectedReplies {
  const byId = new Map<string, { code: number; dataCode?: string; what: string }>();
  const nullKinds = new Map<string, number>();
  let total = 0;
  for (const m of messages) {
    const e = (overWebSocket && m.expectWs) || m.expect;
    if (!e.reply) continue;
    total++;
    if (e.id === null) {
      const k = replyKind(e.code, e.dataCode);
      nullKinds.set(k, (nullKinds.get(k) ?? 0) + 1);
    } else {
      const key = idKey(e.id);
      if (byId.has(key)) throw new Error(`duplicate id ${key} in generated messages`);
      byId.set(key, { code: e.code, ...(e.dataCode ? { dataCode: e.dataCode } : {}), what: m.what });
    }
  }
  return { byId, nullKinds, total };
}
