// bootc's install configuration (crates/lib/src/install/config.rs@534c76ea): the `[install]` TOML
// drop-ins under /usr/lib, /usr/local/lib, /etc and /run `bootc/install/*.toml` of the root bootc
// runs in, merged in order, canonicalized, and printed by `bootc install print-configuration`.
// The TOML reader takes the subset these files use: tables, dotted keys, strings, booleans,
// integers and arrays of those.
import { fail } from './common.mjs';

/** config.rs:296-297: liboverdrop scans these bases for `bootc/install/*.toml`. */
const BASES = ['usr/lib', 'usr/local/lib', 'etc', 'run'];

/** config.rs:95-135, in declaration order (serde keeps it; canonical JSON sorts anyway). */
const FIELDS = {
  'root-fs-type': 'fs',
  block: 'blocks',
  filesystem: 'filesystems',
  kargs: 'strings',
  'karg-deletes': 'strings',
  'match-architectures': 'strings',
  ostree: 'ostree',
  stateroot: 'string',
  'root-mount-spec': 'string',
  'boot-mount-spec': 'string',
  bootupd: 'bootupd',
  bootloader: 'bootloader',
  'discoverable-partitions': 'bool',
  'enforce-container-sigpolicy': 'bool',
};

const ARCH = { x64: 'x86_64', arm64: 'aarch64', s390x: 's390x', ppc64: 'powerpc64' }[process.arch] ?? process.arch;

/**
 * load_config() (config.rs:290-334): `root` reads files relative to the root bootc runs in. Returns
 * the merged, canonicalized configuration, or null when no file matched this architecture.
 */
export function loadConfig(root) {
  // liboverdrop: a file name in a later base replaces the same name in an earlier one; sorted by name.
  const byName = new Map();
  for (const base of BASES) {
    for (const name of root.list(`${base}/bootc/install`) ?? []) {
      if (name.endsWith('.toml')) byName.set(name, `${base}/bootc/install/${name}`);
    }
  }
  let config = null;
  for (const name of [...byName.keys()].sort()) {
    const rel = byName.get(name);
    const path = `/${rel}`;
    const top = parseToml(root.read(rel) ?? '', path);
    for (const key of Object.keys(top)) if (key !== 'install') unknownField(path, key, ['install']);
    const install = top.install;
    if (!install) continue;
    const c = checkInstall(install, path);
    const matches = !c['match-architectures'] || c['match-architectures'].includes(ARCH);
    if (!config) {
      if (matches) config = c;
    } else if (matches) merge(config, c);
  }
  if (config) canonicalize(config);
  return config;
}

function unknownField(path, key, expected) {
  // serde's deny_unknown_fields message, under load_config's contexts (config.rs:290, 302-307).
  fail(`Loading configuration: Parsing ${JSON.stringify(path)}: unknown field \`${key}\`, expected one of ${expected.map((k) => `\`${k}\``).join(', ')}`);
}

function checkInstall(raw, path) {
  const out = {};
  for (const [key, value] of Object.entries(raw)) {
    const kind = FIELDS[key];
    if (!kind) unknownField(path, key, Object.keys(FIELDS));
    out[key] = checkValue(kind, value, path, key);
  }
  return out;
}

function checkValue(kind, value, path, key) {
  const bad = (what) => fail(`Loading configuration: Parsing ${JSON.stringify(path)}: invalid value for \`${key}\`: expected ${what}`);
  const oneOf = (values) => (values.includes(value) ? value : bad(`one of ${values.map((v) => `\`${v}\``).join(', ')}`));
  switch (kind) {
    case 'fs':
      return oneOf(['xfs', 'ext4', 'btrfs']);
    case 'bootloader':
      return oneOf(['grub', 'grub-cc', 'systemd', 'none']);
    case 'string':
      return typeof value === 'string' ? value : bad('a string');
    case 'bool':
      return typeof value === 'boolean' ? value : bad('a boolean');
    case 'strings':
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : bad('a sequence of strings');
    case 'blocks':
      return Array.isArray(value) && value.every((v) => ['direct', 'tpm2-luks'].includes(v)) ? value : bad('a sequence of `direct`, `tpm2-luks`');
    case 'filesystems': {
      const root = value.root;
      for (const k of Object.keys(value)) if (k !== 'root') unknownField(path, k, ['root']);
      if (root === undefined) return { root: null };
      for (const k of Object.keys(root)) if (k !== 'type') unknownField(path, k, ['type']);
      return { root: { type: root.type === undefined ? null : checkValue('fs', root.type, path, 'type') } };
    }
    case 'bootupd':
      for (const k of Object.keys(value)) if (k !== 'skip-boot-uuid') unknownField(path, k, ['skip-boot-uuid']);
      return { 'skip-boot-uuid': value['skip-boot-uuid'] === undefined ? null : checkValue('bool', value['skip-boot-uuid'], path, 'skip-boot-uuid') };
    case 'ostree':
      // RepoOptions (ostree-ext repo_options.rs) skips an unset value when serialized.
      return value['bls-append-except-default'] === undefined ? {} : { 'bls-append-except-default': checkValue('string', value['bls-append-except-default'], path, 'bls-append-except-default') };
    default:
      return value;
  }
}

/** Mergeable for InstallConfiguration (config.rs:199-241): later values win, kargs accumulate. */
function merge(into, other) {
  for (const [key, value] of Object.entries(other)) {
    if (key === 'kargs' || key === 'karg-deletes') into[key] = [...(into[key] ?? []), ...value];
    else if (key === 'filesystem') into.filesystem = value.root ? { root: { type: value.root.type ?? into.filesystem?.root?.type ?? null } } : (into.filesystem ?? value);
    else if (key === 'bootupd') into.bootupd = { 'skip-boot-uuid': value['skip-boot-uuid'] ?? into.bootupd?.['skip-boot-uuid'] ?? null };
    else if (key === 'ostree') into.ostree = { ...(into.ostree ?? {}), ...value };
    else if (key !== 'match-architectures') into[key] = value;
  }
}

/** canonicalize() (config.rs:245-263): filesystem.root.type and root-fs-type agree; `block` defaults to [direct]. */
function canonicalize(c) {
  const type = c.filesystem?.root?.type;
  if (type) c['root-fs-type'] = type;
  else if (c['root-fs-type']) c.filesystem = { root: { type: c['root-fs-type'] } };
  c.block ??= ['direct'];
}

/** The root filesystem type the configuration names, or null (filesystem_root().fstype, config.rs:266-268). */
export const configFsType = (c) => c?.filesystem?.root?.type ?? null;

/**
 * `bootc install print-configuration [--all]` (install.rs:885-892): the merged configuration (all
 * null without any file), `kargs`/`karg-deletes` only with --all (filter_to_external, config.rs:270-274),
 * as canonical JSON on stdout without a trailing newline.
 */
export function printableConfig(c, all) {
  const out = {};
  for (const key of Object.keys(FIELDS)) {
    if (key === 'kargs' || key === 'karg-deletes') {
      if (all && c?.[key]) out[key] = c[key];
      continue;
    }
    out[key] = c?.[key] ?? null;
  }
  return canonicalJson(out);
}

/** Canonical JSON as the canon_json crate writes it: object keys sorted, no whitespace. */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Reads the TOML subset; a syntax it does not know fails the way a parse error fails bootc. */
export function parseToml(text, path) {
  const top = {};
  let table = top;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = stripComment(lines[i]).trim();
    if (!line) continue;
    const header = /^\[([^[\]]+)\]$/.exec(line);
    if (header) {
      table = descend(top, splitKey(header[1], path, i), path, i);
      continue;
    }
    // Arrays may span lines: read on until the brackets balance.
    while (unbalanced(line) && i + 1 < lines.length) line += ` ${stripComment(lines[++i]).trim()}`;
    const eq = line.indexOf('=');
    if (eq < 0) syntax(path, i, 'expected `=`');
    const keys = splitKey(line.slice(0, eq), path, i);
    const last = keys.pop();
    const target = descend(table, keys, path, i);
    const { value, rest } = parseValue(line.slice(eq + 1).trim(), path, i);
    if (rest.trim()) syntax(path, i, 'expected newline');
    target[last] = value;
  }
  return top;
}

function syntax(path, i, what) {
  fail(`Loading configuration: Parsing ${JSON.stringify(path)}: TOML parse error at line ${i + 1}: ${what}`);
}

/** The positions of `line`'s characters outside TOML strings ("…" with backslash escapes, '…' literal). */
function* unquoted(line) {
  let quote = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else yield i;
  }
}

function stripComment(line) {
  for (const i of unquoted(line)) if (line[i] === '#') return line.slice(0, i);
  return line;
}

function unbalanced(line) {
  let depth = 0;
  for (const i of unquoted(line)) {
    if (line[i] === '[') depth++;
    else if (line[i] === ']') depth--;
  }
  return depth > 0;
}

function splitKey(raw, path, i) {
  const keys = raw.split('.').map((k) => k.trim().replace(/^"(.*)"$/, '$1'));
  if (keys.some((k) => !/^[A-Za-z0-9_-]+$/.test(k))) syntax(path, i, `invalid key \`${raw.trim()}\``);
  return keys;
}

function descend(table, keys, path, i) {
  let t = table;
  for (const k of keys) {
    t[k] ??= {};
    if (typeof t[k] !== 'object' || Array.isArray(t[k])) syntax(path, i, `duplicate key \`${k}\``);
    t = t[k];
  }
  return t;
}

function parseValue(s, path, i) {
  if (s.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"/.exec(s);
    if (!m) syntax(path, i, 'invalid basic string');
    return { value: JSON.parse(`"${m[1]}"`), rest: s.slice(m[0].length) };
  }
  if (s.startsWith("'")) {
    const end = s.indexOf("'", 1);
    if (end < 0) syntax(path, i, 'invalid literal string');
    return { value: s.slice(1, end), rest: s.slice(end + 1) };
  }
  if (s.startsWith('[')) {
    const value = [];
    let rest = s.slice(1).trim();
    while (!rest.startsWith(']')) {
      const item = parseValue(rest, path, i);
      value.push(item.value);
      rest = item.rest.trim();
      if (rest.startsWith(',')) rest = rest.slice(1).trim();
      else if (!rest.startsWith(']')) syntax(path, i, 'expected `,` or `]`');
    }
    return { value, rest: rest.slice(1) };
  }
  const m = /^(true|false|[+-]?\d+)/.exec(s);
  if (!m) syntax(path, i, 'invalid value');
  const value = m[1] === 'true' ? true : m[1] === 'false' ? false : Number(m[1]);
  return { value, rest: s.slice(m[0].length) };
}
