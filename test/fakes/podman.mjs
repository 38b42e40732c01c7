// The podman contract fake: pull/load/image exists/inspect/rmi against a tiny fake storage, and
// `podman run … IMAGE bootc install …`, running the bootc fake in-process as bootc runs inside the
// container: its `/` is the image, paths go through the -v mounts, and what bootc checks about the
// container (privileges, PID and user namespace) is handed to it to check in its own order.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { err, Exit, failureMessage, injectedFailure, logInvocation, main, spendFailure, splitRef } from './lib/common.mjs';
import { runBootc } from './lib/run.mjs';
import { describeImage, findImage, layoutImageId, localName, normalizeRef, ociArchiveName, ociLayoutName, printCopy, removeImage, storeImage } from './lib/storage.mjs';

const argv = process.argv.slice(2);

/** Podman's (cobra's) refusals: `Error: …` on stderr, exit 125. */
function podmanError(message, code = 125) {
  err(`Error: ${message}`);
  throw new Exit(code);
}

/**
 * Splits `--flag=value`, `--flag value` and boolean flags. `spec` maps names to 'bool' or 'value'.
 * Stops at the first positional when `stopAtPositional` (podman run: options end at IMAGE).
 */
function parseOptions(args, spec, cmd, stopAtPositional) {
  const opts = {};
  const positionals = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      if (stopAtPositional) return { opts, positionals, rest: args.slice(i + 1) };
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const kind = spec[name];
    // Combined short booleans (-it) are how people type `podman run`.
    if (!kind && /^-[a-z]{2,}$/.test(arg) && [...arg.slice(1)].every((c) => spec[`-${c}`] === 'bool')) {
      for (const c of arg.slice(1)) opts[`-${c}`] = true;
      continue;
    }
    if (!kind) podmanError(`unknown ${name.startsWith('--') ? 'flag' : 'shorthand flag'}: ${name}\nSee 'podman ${cmd} --help'`);
    if (kind === 'bool') {
      opts[name] = eq >= 0 ? arg.slice(eq + 1) !== 'false' : true;
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) podmanError(`flag needs an argument: ${name}\nSee 'podman ${cmd} --help'`);
    (opts[name] ??= []).push(value);
  }
  return { opts, positionals, rest: [] };
}

const last = (opts, ...names) => names.flatMap((n) => opts[n] ?? []).pop();

/** `podman pull` (explicit or implicit): prints the non-TTY lines, stores the image, returns it. */
async function pull(ref, { quiet }) {
  const norm = normalizeRef(ref);
  if (norm.error) podmanError(norm.error);
  const f = injectedFailure();
  const cached = findImage(norm.ref);
  if (f?.stage === 'pull') {
    spendFailure(f);
    if (!quiet) err(`Trying to pull ${norm.ref}...`);
    const msg = f.kind === 'manifest-unknown' || f.kind === 'unauthorized' ? failureMessage('pull', f.kind, { image: norm.ref }).replace(/^.*?reading manifest/, 'reading manifest') : 'injected failure';
    podmanError(`initializing source docker://${norm.ref}: ${msg}`);
  }
  const image = cached ?? describeImage(norm.ref);
  await printCopy(image, { trying: norm.ref, quiet, cached: Boolean(cached) });
  storeImage(image);
  return image;
}

/** `oci:DIR[:REF]` / `oci-archive:FILE[:REF]` / a plain archive file (podman load). */
async function importLayout(spec, { quiet, archive, pulled = false }) {
  const m = /^(.*?)(?::([^/:]+))?$/.exec(spec);
  const read = archive ? ociArchiveName(m[1]) : ociLayoutName(m[1]);
  if (read.error) podmanError(`payload does not match any of the supported image formats:\n * oci: ${read.error}`);
  let image = describeImage(localName(m[1], m[2] ?? read.name));
  if (pulled) {
    const r = layoutImageId(m[1]);
    if (r.error) podmanError(`payload does not match any of the supported image formats:\n * oci: ${r.error}`);
    // Unnamed, as podman 5 stores a layout without a ref.name annotation: known by its id.
    image = { ...describeImage(`<none>@${r.id}`), id: r.id };
  }
  await printCopy(image, { quiet, cached: false });
  storeImage(image);
  return image;
}

const PULL_OPTS = { '-q': 'bool', '--quiet': 'bool', '--tls-verify': 'bool', '--authfile': 'value', '--creds': 'value', '--retry': 'value', '--retry-delay': 'value', '--arch': 'value', '--platform': 'value' };

async function cmdPull(args) {
  const { opts, positionals } = parseOptions(args, PULL_OPTS, 'pull', false);
  if (positionals.length !== 1) podmanError(`accepts 1 arg(s), received ${positionals.length}`);
  const quiet = Boolean(opts['-q'] || opts['--quiet']);
  const [ref] = positionals;
  let image;
  if (ref.startsWith('oci:')) image = await importLayout(ref.slice(4), { quiet, archive: false, pulled: true });
  else if (ref.startsWith('oci-archive:')) image = await importLayout(ref.slice(12), { quiet, archive: true });
  else image = await pull(ref.replace(/^docker:\/\//, ''), { quiet });
  process.stdout.write(`${image.id}\n`);
}

async function cmdLoad(args) {
  const { opts, positionals } = parseOptions(args, { '-i': 'value', '--input': 'value', '-q': 'bool', '--quiet': 'bool' }, 'load', false);
  const file = last(opts, '-i', '--input');
  if (!file || positionals.length > 0) podmanError('load needs -i FILE in the test fake (stdin is not supported)');
  const quiet = Boolean(opts['-q'] || opts['--quiet']);
  const image = await importLayout(file, { quiet, archive: !(existsSync(file) && statSync(file).isDirectory()) });
  process.stdout.write(`Loaded image: ${image.ref}\n`);
}

function cmdImage(args) {
  const [sub, ...rest] = args;
  const ref = rest.find((a) => !a.startsWith('-'));
  const image = ref ? findImage(ref) : null;
  if (sub === 'exists') throw new Exit(image ? 0 : 1);
  if (sub === 'inspect') {
    if (!image) podmanError(`${ref}: image not known`);
    const { repo } = splitRef(image.ref);
    const out = [{ Id: image.id, Digest: image.digest, RepoTags: [image.ref], RepoDigests: [`${repo}@${image.digest}`], Size: image.size, Labels: image.labels, RootFS: { Type: 'layers', Layers: image.layers } }];
    process.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
    return;
  }
  if (sub === 'rm') return cmdRmi(rest);
  podmanError(`unrecognized command \`podman image ${sub ?? ''}\``);
}

function cmdRmi(args) {
  const refs = args.filter((a) => !a.startsWith('-'));
  for (const ref of refs) {
    const image = findImage(ref);
    if (!image) podmanError(`${ref}: image not known`, 1);
    removeImage(image);
    process.stdout.write(`Untagged: ${image.ref}\nDeleted: ${image.id}\n`);
  }
}

const RUN_OPTS = {
  '--rm': 'bool', '--privileged': 'bool', '-i': 'bool', '--interactive': 'bool', '-t': 'bool', '--tty': 'bool', '--init': 'bool',
  '--pid': 'value', '--security-opt': 'value', '-v': 'value', '--volume': 'value', '-e': 'value', '--env': 'value',
  '--name': 'value', '--net': 'value', '--network': 'value', '--pull': 'value', '--ipc': 'value', '--userns': 'value',
  '--cap-add': 'value', '--device': 'value', '--tmpfs': 'value', '-w': 'value', '--workdir': 'value', '--log-driver': 'value',
};

/**
 * bootc mirrors these from the host's PID 1 mount namespace itself when they are not mounted in
 * (ensure_mirrored_host_mount, install.rs:1670-1680; crates/mount/src/mount.rs:356-367), which
 * needs --pid=host; so they are the host's with or without `-v`.
 */
const MIRRORED = ['/dev', '/var/lib/containers', '/var/tmp', '/run/udev'];

/** Container path → host path through the -v mounts (longest prefix wins); null when not there. */
function translator(volumes, pidHost) {
  const all = pidHost ? [...volumes, ...MIRRORED.filter((m) => !volumes.some((v) => v.container === m)).map((m) => ({ host: m, container: m }))] : volumes;
  return (path) => {
    const p = posix.resolve('/', path);
    const hit = all.filter((v) => p === v.container || p.startsWith(`${v.container === '/' ? '' : v.container}/`)).sort((a, b) => b.container.length - a.container.length)[0];
    return hit ? posix.join(hit.host, posix.relative(hit.container, p)) : null;
  };
}

async function cmdRun(args) {
  const { opts, positionals, rest } = parseOptions(args, RUN_OPTS, 'run', true);
  if (positionals.length === 0) podmanError('requires at least 1 arg(s), only received 0');
  const volumes = [...(opts['-v'] ?? []), ...(opts['--volume'] ?? [])].map((spec) => {
    const [host, container = host] = spec.split(':');
    if (!host.startsWith('/')) podmanError(`the test fake supports only host-path volumes, not ${spec}`);
    if (!existsSync(host)) podmanError(`statfs ${host}: no such file or directory`);
    return { host, container: posix.resolve('/', container) };
  });
  const inner = rest.slice(1);
  const rootless = process.getuid() !== 0;
  const pullPolicy = last(opts, '--pull') ?? 'missing';
  if (!['missing', 'always', 'never', 'newer'].includes(pullPolicy)) podmanError(`invalid pull policy "${pullPolicy}"`);
  // An image id (64 hex digits, as `podman images --no-trunc` shows it): only local storage has it.
  const byId = /^(sha256:)?[0-9a-f]{64}$/.test(positionals[0]);
  const norm = byId ? { ref: positionals[0] } : normalizeRef(positionals[0]);
  if (norm.error) podmanError(norm.error);
  let image;
  if (byId) {
    image = findImage(positionals[0]);
    if (!image) podmanError(`${positionals[0]}: image not known`);
  } else if (rootless) {
    // Rootless podman pulls into the user's own storage, which the fake does not keep: it shows the
    // pull and leaves root's storage alone.
    image = describeImage(norm.ref);
    await printCopy(image, { trying: norm.ref, quiet: false, cached: false });
  } else {
    image = findImage(norm.ref);
    if (!image && pullPolicy === 'never') podmanError(`${norm.ref}: image not known`);
    if (!image || pullPolicy === 'always') image = await pull(norm.ref, { quiet: false });
  }

  if (rest.length === 0) podmanError('the test fake runs only `bootc install …` in a container; no command given');
  if (rest[0] !== 'bootc') podmanError(`crun: executable file \`${rest[0]}\` not found in $PATH: No such file or directory: OCI runtime attempted to invoke a command that was not found`, 127);
  logInvocation('bootc', inner, { container: true, image: image.ref });

  // A named container can be stopped with `podman rm --force NAME`, as the engine's teardown does.
  const name = last(opts, '--name');
  const record = name ? containerFile(name) : null;
  if (record) {
    if (existsSync(record)) podmanError(`creating container storage: the container name "${name}" is already in use`);
    mkdirSync(posix.dirname(record), { recursive: true });
    writeFileSync(record, String(process.pid));
  }
  try {
    const pidHost = last(opts, '--pid') === 'host';
    // What bootc can see of its container: uid 0 in any podman container; CAP_SYS_ADMIN in the
    // bounding set only with --privileged; its own PID 1 without --pid=host; /proc/1 owned by the
    // overflow uid in a rootless user namespace.
    const container = { privileged: Boolean(opts['--privileged']), pidHost, proc1Uid: rootless ? 65534 : 0, rootless };
    await runBootc(inner, { uid: 0, inContainer: true, containerImage: image, host: translator(volumes, pidHost), container });
  } finally {
    if (record) rmSync(record, { force: true });
  }
}

function containerFile(name) {
  return posix.join(process.env.PARTICLE_FAKE_STORAGE || '/var/lib/containers/particle-fake', 'containers', `${name}.pid`);
}

/** `podman rm [--force] [--ignore] NAME…`: stops (kills) a running fake container. */
function cmdRm(args) {
  const force = args.includes('--force') || args.includes('-f');
  const ignore = args.includes('--ignore') || args.includes('-i');
  for (const name of args.filter((a) => !a.startsWith('-'))) {
    const record = containerFile(name);
    if (!existsSync(record)) {
      if (ignore) continue;
      podmanError(`no container with name or ID "${name}" found: no such container`, 1);
    }
    const pid = Number(readFileSync(record, 'utf8'));
    if (!force) podmanError(`cannot remove container ${name} as it is running - running or paused containers cannot be removed without force`, 2);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    rmSync(record, { force: true });
    process.stdout.write(`${name}\n`);
  }
}

/** Global options podman takes before the command; --root moves the (fake) storage. */
function globals(args) {
  let i = 0;
  for (; i < args.length && args[i].startsWith('-'); i++) {
    const [name, inline] = args[i].split('=', 2);
    if (name === '--version' || name === '-v') {
      process.stdout.write('podman version 5.4.2\n');
      throw new Exit(0);
    }
    if (!['--root', '--runroot', '--storage-driver', '--log-level', '--cgroup-manager'].includes(name)) podmanError(`unknown flag: ${name}\nSee 'podman --help'`);
    const value = inline ?? args[++i];
    if (name === '--root') process.env.PARTICLE_FAKE_STORAGE = value;
  }
  return args.slice(i);
}

logInvocation('podman', argv);
// Rootful podman creates its graph root on first use, so -v /var/lib/containers:… always resolves.
if (process.getuid() === 0) mkdirSync('/var/lib/containers', { recursive: true });
await main(async () => {
  const [cmd, ...args] = globals(argv);
  if (cmd === 'pull') return cmdPull(args);
  if (cmd === 'run') return cmdRun(args);
  if (cmd === 'load') return cmdLoad(args);
  if (cmd === 'image') return cmdImage(args);
  if (cmd === 'rmi') return cmdRmi(args);
  if (cmd === 'rm') return cmdRm(args);
  if (cmd === 'version') return void process.stdout.write('Version:      5.4.2\n');
  podmanError(cmd ? `unrecognized command \`podman ${cmd}\`\nTry 'podman --help' for more information` : 'missing command \'podman COMMAND\'');
});
