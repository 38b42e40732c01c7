/**
 * bootc's install configuration, read from the image before anything is written, as `bootc install
 * print-configuration --all` would print it inside the image. Followed line by line from
 * bootc-dev/bootc at 534c76ea474a356aa288f6767635e579ea2614d5, crates/lib/src/install/config.rs:
 *
 * - the fragments are `*.toml` in `bootc/install` under /usr/lib, /usr/local/lib, /etc and /run
 *   (load_config, 292-297), dotfiles ignored; liboverdrop orders them by file name, and of two with
 *   the same name the later directory's wins;
 * - a file whose `match-architectures` does not list this machine's architecture (Rust's naming:
 *   x86_64, aarch64…) is skipped (merge, 199-208; load_config, 316-327);
 * - later files override single values and append to `kargs` and `karg-deletes` (merge, 209-238);
 * - `filesystem.root.type` wins over `root-fs-type`; `block` defaults to `["direct"]` (canonicalize,
 *   249-263);
 * - unknown keys are an error: every table but `[install.ostree]` is `deny_unknown_fields` (56-135),
 *   and an error here fails bootc before it writes anything (prepare_install, install.rs:1598).
 *
 * TOML is parsed by a small reader of what these files hold (tables, dotted keys, strings, booleans,
 * integers, arrays); a file it cannot read is reported as unread, never as wrong.
 */

export type RootFsType = 'xfs' | 'ext4' | 'btrfs';
export type BlockSetup = 'direct' | 'tpm2-luks';

export interface InstallConfig {
  readonly rootFsType: RootFsType | null;
  /** Block setups `to-disk` accepts; the first is its default. */
  readonly block: readonly BlockSetup[];
  readonly kargs: readonly string[];
  readonly kargDeletes: readonly string[];
  readonly stateroot: string | null;
  readonly rootMountSpec: string | null;
  readonly bootMountSpec: string | null;
  readonly bootloader: 'grub' | 'grub-cc' | 'systemd' | 'none' | null;
  readonly discoverablePartitions: boolean | null;
  readonly enforceContainerSigpolicy: boolean | null;
}

export type InstallConfigResult =
  /** Read: `config` is null when the image has no install config at all. */
  | { readonly kind: 'read'; readonly config: InstallConfig | null; readonly files: readonly string[] }
  /** bootc itself would refuse the config: the install cannot work. */
  | { readonly kind: 'invalid'; readonly file: string; readonly problem: string }
  /** Not read before the disk is erased (why), so not checked. */
  | { readonly kind: 'unread'; readonly why: string };

export const INSTALL_CONFIG_DIRS = ['usr/lib/bootc/install', 'usr/local/lib/bootc/install', 'etc/bootc/install', 'run/bootc/install'] as const;

/** Node's process.arch in Rust's std::env::consts::ARCH naming, which match-architectures uses. */
export function rustArch(nodeArch: string): string {
  return ({ x64: 'x86_64', arm64: 'aarch64', ia32: 'x86', ppc64: 'powerpc64', s390x: 's390x', riscv64: 'riscv64', arm: 'arm', loong64: 'loongarch64' } as Record<string, string>)[nodeArch] ?? nodeArch;
}

export class TomlError extends Error {
  override readonly name = 'TomlError';
}

type Toml = string | number | boolean | Toml[] | { [k: string]: Toml };
type Table = { [k: string]: Toml };

/** A reader for the part of TOML 1.0 that install configs use. Throws TomlError with a line number. */
export function parseToml(text: string): Table {
  const root: Table = {};
  let current = root;
  let pos = 0;
  let line = 1;
  const src = text.replace(/^\uFEFF/, '');
  const fail = (what: string): never => {
    throw new TomlError(`line ${line}: ${what}`);
  };
  const peek = (): string => src[pos] ?? '';
  const skipSpace = (newlines: boolean): void => {
    for (;;) {
      const c = peek();
      if (c === ' ' || c === '\t' || c === '\r') pos++;
      else if (newlines && c === '\n') {
        pos++;
        line++;
      } else if (c === '#') {
        while (pos < src.length && src[pos] !== '\n') pos++;
      } else return;
    }
  };
  const basicString = (): string => {
    if (src.startsWith('"""', pos)) fail('multi-line strings are not read here');
    pos++;
    let out = '';
    for (;;) {
      const c = src[pos++];
      if (c === undefined || c === '\n') return fail('unterminated string');
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = src[pos++];
      const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
      if (e !== undefined && simple[e] !== undefined) out += simple[e];
      else if (e === 'u' || e === 'U') {
        const n = e === 'u' ? 4 : 8;
        const hex = src.slice(pos, pos + n);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) fail('bad unicode escape');
        out += String.fromCodePoint(parseInt(hex, 16));
        pos += n;
      } else fail(`bad escape \\${e ?? ''}`);
    }
  };
  const literalString = (): string => {
    if (src.startsWith("'''", pos)) fail('multi-line strings are not read here');
    const end = src.indexOf("'", pos + 1);
    const nl = src.indexOf('\n', pos + 1);
    if (end === -1 || (nl !== -1 && nl < end)) fail('unterminated string');
    const s = src.slice(pos + 1, end);
    pos = end + 1;
    return s;
  };
  const key = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skipSpace(false);
      const c = peek();
      if (c === '"') parts.push(basicString());
      else if (c === "'") parts.push(literalString());
      else {
        const m = /^[A-Za-z0-9_-]+/.exec(src.slice(pos, pos + 256));
        if (!m) return fail(`expected a key, found ${JSON.stringify(c || 'the end')}`);
        parts.push(m[0]);
        pos += m[0].length;
      }
      skipSpace(false);
      if (peek() !== '.') return parts;
      pos++;
    }
  };
  const value = (): Toml => {
    const c = peek();
    if (c === '"') return basicString();
    if (c === "'") return literalString();
    if (c === '[') {
      pos++;
      const arr: Toml[] = [];
      for (;;) {
        skipSpace(true);
        if (peek() === ']') {
          pos++;
          return arr;
        }
        arr.push(value());
        skipSpace(true);
        if (peek() === ',') pos++;
        else if (peek() !== ']') fail('expected , or ] in an array');
      }
    }
    if (c === '{') return fail('inline tables are not read here');
    const m = /^[^\s,\]#]+/.exec(src.slice(pos, pos + 64));
    if (!m) return fail('expected a value');
    pos += m[0].length;
    if (m[0] === 'true') return true;
    if (m[0] === 'false') return false;
    if (/^[+-]?(0|[1-9](_?[0-9])*)$/.test(m[0])) return Number(m[0].replace(/_/g, ''));
    return fail(`values like ${m[0]} are not read here`);
  };
  const descend = (t: Table, path: string[], what: string): Table => {
    let at = t;
    for (const p of path) {
      const next = at[p];
      if (next === undefined) at = at[p] = {};
      else if (typeof next === 'object' && !Array.isArray(next)) at = next;
      else fail(`${what} ${path.join('.')} is already a value`);
    }
    return at;
  };
  const defined = new Set<string>();
  for (;;) {
    skipSpace(true);
    if (pos >= src.length) return root;
    if (peek() === '[') {
      if (src[pos + 1] === '[') fail('arrays of tables are not read here');
      pos++;
      const path = key();
      if (peek() !== ']') fail('expected ] after a table name');
      pos++;
      const name = path.join('.');
      if (defined.has(name)) fail(`table [${name}] defined twice`);
      defined.add(name);
      current = descend(root, path, 'table');
    } else {
      const path = key();
      if (peek() !== '=') fail('expected = after a key');
      pos++;
      skipSpace(false);
      const v = value();
      const parent = descend(current, path.slice(0, -1), 'key');
      const last = path[path.length - 1]!;
      if (parent[last] !== undefined) fail(`key ${path.join('.')} defined twice`);
      parent[last] = v;
    }
    skipSpace(false);
    if (pos < src.length && peek() !== '\n') fail('expected the end of the line');
  }
}

/** Raised for what bootc's serde would refuse: an unknown key or a value of the wrong type. */
class ConfigError extends Error {}

const isTable = (v: Toml | undefined): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v);

function only(t: Table, where: string, keys: readonly string[]): void {
  for (const k of Object.keys(t)) if (!keys.includes(k)) throw new ConfigError(`unknown key ${where}${where ? '.' : ''}${k}`);
}
function str(v: Toml | undefined, where: string): string | null {
  if (v === undefined) return null;
  if (typeof v !== 'string') throw new ConfigError(`${where} must be a string`);
  return v;
}
function bool(v: Toml | undefined, where: string): boolean | null {
  if (v === undefined) return null;
  if (typeof v !== 'boolean') throw new ConfigError(`${where} must be true or false`);
  return v;
}
function strings(v: Toml | undefined, where: string): string[] | null {
  if (v === undefined) return null;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ConfigError(`${where} must be a list of strings`);
  return v as string[];
}
function oneOf<T extends string>(v: string | null, allowed: readonly T[], where: string): T | null {
  if (v === null) return null;
  if (!allowed.includes(v as T)) throw new ConfigError(`${where} is "${v}"; bootc accepts ${allowed.join(', ')}`);
  return v as T;
}
const FS: readonly RootFsType[] = ['xfs', 'ext4', 'btrfs'];

interface Fragment {
  rootFsType: RootFsType | null;
  filesystemRootType: RootFsType | null;
  block: BlockSetup[] | null;
  kargs: string[] | null;
  kargDeletes: string[] | null;
  matchArchitectures: string[] | null;
  stateroot: string | null;
  rootMountSpec: string | null;
  bootMountSpec: string | null;
  bootloader: InstallConfig['bootloader'];
  discoverablePartitions: boolean | null;
  enforceContainerSigpolicy: boolean | null;
}

/** One file's `[install]` table, typed as bootc's serde types it (config.rs:56-135). */
function fragment(doc: Table): Fragment | null {
  only(doc, '', ['install']);
  const i = doc.install;
  if (i === undefined) return null;
  if (!isTable(i)) throw new ConfigError('install must be a table');
  only(i, 'install', [
    'root-fs-type',
    'block',
    'filesystem',
    'kargs',
    'karg-deletes',
    'match-architectures',
    'ostree',
    'stateroot',
    'root-mount-spec',
    'boot-mount-spec',
    'bootupd',
    'bootloader',
    'discoverable-partitions',
    'enforce-container-sigpolicy',
  ]);
  let filesystemRootType: RootFsType | null = null;
  if (i.filesystem !== undefined) {
    if (!isTable(i.filesystem)) throw new ConfigError('install.filesystem must be a table');
    only(i.filesystem, 'install.filesystem', ['root']);
    const root = i.filesystem.root;
    if (root !== undefined) {
      if (!isTable(root)) throw new ConfigError('install.filesystem.root must be a table');
      only(root, 'install.filesystem.root', ['type']);
      filesystemRootType = oneOf(str(root.type, 'install.filesystem.root.type'), FS, 'install.filesystem.root.type');
    }
  }
  if (i.bootupd !== undefined) {
    if (!isTable(i.bootupd)) throw new ConfigError('install.bootupd must be a table');
    only(i.bootupd, 'install.bootupd', ['skip-boot-uuid']);
    bool(i.bootupd['skip-boot-uuid'], 'install.bootupd.skip-boot-uuid');
  }
  // [install.ostree] is not deny_unknown_fields (ostree-ext repo_options.rs): unknown keys only warn.
  if (i.ostree !== undefined && !isTable(i.ostree)) throw new ConfigError('install.ostree must be a table');
  const block = strings(i.block, 'install.block');
  return {
    rootFsType: oneOf(str(i['root-fs-type'], 'install.root-fs-type'), FS, 'install.root-fs-type'),
    filesystemRootType,
    block: block === null ? null : block.map((b) => oneOf(b, ['direct', 'tpm2-luks'] as const, 'install.block')!),
    kargs: strings(i.kargs, 'install.kargs'),
    kargDeletes: strings(i['karg-deletes'], 'install.karg-deletes'),
    matchArchitectures: strings(i['match-architectures'], 'install.match-architectures'),
    stateroot: str(i.stateroot, 'install.stateroot'),
    rootMountSpec: str(i['root-mount-spec'], 'install.root-mount-spec'),
    bootMountSpec: str(i['boot-mount-spec'], 'install.boot-mount-spec'),
    bootloader: oneOf(str(i.bootloader, 'install.bootloader'), ['grub', 'grub-cc', 'systemd', 'none'] as const, 'install.bootloader'),
    discoverablePartitions: bool(i['discoverable-partitions'], 'install.discoverable-partitions'),
    enforceContainerSigpolicy: bool(i['enforce-container-sigpolicy'], 'install.enforce-container-sigpolicy'),
  };
}

/**
 * The fragments in the order bootc reads them: by file name, and of two with the same name the one
 * in the later of /usr/lib, /usr/local/lib, /etc, /run. Dotfiles and other extensions are ignored.
 */
export function fragmentOrder(paths: Iterable<string>): string[] {
  const byName = new Map<string, string>();
  const all = [...paths];
  for (const dir of INSTALL_CONFIG_DIRS) {
    for (const p of all) {
      if (!p.startsWith(`${dir}/`)) continue;
      const name = p.slice(dir.length + 1);
      if (name.includes('/') || name.startsWith('.') || !name.endsWith('.toml')) continue;
      byName.set(name, p);
    }
  }
  return [...byName.keys()].sort().map((n) => byName.get(n)!);
}

/** Merges the image's fragments as bootc's load_config does, for a machine of `arch` (Rust's naming). */
export function loadInstallConfig(files: ReadonlyMap<string, string>, arch: string): InstallConfigResult {
  const order = fragmentOrder(files.keys());
  let merged: Fragment | null = null;
  const used: string[] = [];
  for (const path of order) {
    let f: Fragment | null;
    try {
      f = fragment(parseToml(files.get(path)!));
    } catch (e) {
      if (e instanceof TomlError) return { kind: 'unread', why: `/${path} could not be read here (${e.message}), so the image's install config was not checked` };
      if (e instanceof ConfigError) return { kind: 'invalid', file: `/${path}`, problem: e.message };
      throw e;
    }
    if (f === null) continue;
    if (f.matchArchitectures !== null && !f.matchArchitectures.includes(arch)) continue;
    used.push(`/${path}`);
    if (merged === null) {
      merged = f;
      continue;
    }
    const m: Fragment = merged;
    const pick = <K extends keyof Fragment>(k: K): Fragment[K] => (f[k] ?? m[k]) as Fragment[K];
    merged = {
      rootFsType: pick('rootFsType'),
      filesystemRootType: pick('filesystemRootType'),
      block: pick('block'),
      kargs: f.kargs === null ? m.kargs : [...(m.kargs ?? []), ...f.kargs],
      kargDeletes: f.kargDeletes === null ? m.kargDeletes : [...(m.kargDeletes ?? []), ...f.kargDeletes],
      matchArchitectures: m.matchArchitectures,
      stateroot: pick('stateroot'),
      rootMountSpec: pick('rootMountSpec'),
      bootMountSpec: pick('bootMountSpec'),
      bootloader: pick('bootloader'),
      discoverablePartitions: pick('discoverablePartitions'),
      enforceContainerSigpolicy: pick('enforceContainerSigpolicy'),
    };
  }
  if (merged === null) return { kind: 'read', config: null, files: [] };
  return {
    kind: 'read',
    files: used,
    config: {
      rootFsType: merged.filesystemRootType ?? merged.rootFsType,
      block: merged.block ?? ['direct'],
      kargs: merged.kargs ?? [],
      kargDeletes: merged.kargDeletes ?? [],
      stateroot: merged.stateroot,
      rootMountSpec: merged.rootMountSpec,
      bootMountSpec: merged.bootMountSpec,
      bootloader: merged.bootloader,
      discoverablePartitions: merged.discoverablePartitions,
      enforceContainerSigpolicy: merged.enforceContainerSigpolicy,
    },
  };
}

export interface InstallConfigProblem {
  readonly what: string;
  readonly fix: string;
}

/**
 * What the image's install config says about the chosen layout. `to-disk` takes its block setup from
 * the config's list (baseline.rs:240-251, config.rs:277-287: "Block setup … is not enabled in
 * installation config"), and fails only after it has wiped the disk (baseline.rs:217-226). With
 * `bootloader = "none"` bootc installs no boot loader (install.rs:1611-1612), and the disk would not
 * start.
 */
export function installConfigProblems(result: InstallConfigResult, o: { image: string; toDisk: { blockSetup: BlockSetup } | null }): InstallConfigProblem[] {
  if (result.kind === 'unread') return [];
  if (result.kind === 'invalid') {
    return [{ what: `bootc would refuse the install config of ${o.image}: ${result.file} has ${result.problem}`, fix: 'fix the image\'s install config (bootc install print-configuration inside the image shows the error) or choose another image' }];
  }
  const c = result.config;
  if (c === null) return [];
  const problems: InstallConfigProblem[] = [];
  if (o.toDisk && !c.block.includes(o.toDisk.blockSetup)) {
    problems.push({
      what: `${o.image} allows only the block setup ${c.block.join(', ')} in its install config (${result.files.join(', ')}), not ${o.toDisk.blockSetup}`,
      fix: `choose ${c.block.join(' or ')}, or lay the disk out with the installer (the erase layout)`,
    });
  }
  if (c.bootloader === 'none') {
    problems.push({ what: `the install config of ${o.image} says bootloader = "none", so bootc would install no boot loader and the disk would not start`, fix: 'choose an image that installs a boot loader' });
  }
  return problems;
}

/** bootc's JSON from `install print-configuration --all` (serde, kebab-case: config.rs:94-135). */
export function parsePrintedConfiguration(json: string): InstallConfig {
  const j = JSON.parse(json) as Record<string, unknown> | null;
  if (!j || typeof j !== 'object') throw new Error('bootc install print-configuration printed no JSON object');
  const s = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const b = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
  const fsRoot = s(((j.filesystem as { root?: { type?: unknown } } | undefined)?.root ?? {}).type);
  const fsType = fsRoot ?? s(j['root-fs-type']);
  const bl = s(j.bootloader);
  const block = list(j.block).filter((x): x is BlockSetup => x === 'direct' || x === 'tpm2-luks');
  return {
    rootFsType: FS.includes(fsType as RootFsType) ? (fsType as RootFsType) : null,
    block: block.length > 0 ? block : ['direct'],
    kargs: list(j.kargs),
    kargDeletes: list(j['karg-deletes']),
    stateroot: s(j.stateroot),
    rootMountSpec: s(j['root-mount-spec']),
    bootMountSpec: s(j['boot-mount-spec']),
    bootloader: bl === 'grub' || bl === 'grub-cc' || bl === 'systemd' || bl === 'none' ? bl : null,
    discoverablePartitions: b(j['discoverable-partitions']),
    enforceContainerSigpolicy: b(j['enforce-container-sigpolicy']),
  };
}
