// bootc's command-line grammar, exactly as the reference lists it, with clap-style refusals (exit 2).
// Anything the reference does not list is refused, so an engine that invents a flag fails in tests.
import { err, Exit } from './common.mjs';

const BOTH = ['to-filesystem', 'to-disk'];
const FS = ['to-filesystem'];
const DISK = ['to-disk'];

const TRANSPORTS = ['docker://', 'oci:', 'oci-archive:', 'containers-storage:'];

/** flag → { value: placeholder or null for booleans, verbs, repeat, check(value) → error text or null } */
const FLAGS = {
  '--wipe': { value: null, verbs: DISK },
  '--block-setup': { value: 'BLOCK_SETUP', verbs: DISK, values: ['direct', 'tpm2-luks'] },
  '--filesystem': { value: 'FILESYSTEM', verbs: DISK, values: ['xfs', 'ext4', 'btrfs'] },
  '--root-size': { value: 'ROOT_SIZE', verbs: DISK, check: (v) => (/^\d+[MGT]?$/.test(v) ? null : 'expected a size like 20G (allowed specifiers: M, G, T)') },
  '--via-loopback': { value: null, verbs: DISK },
  '--root-mount-spec': { value: 'ROOT_MOUNT_SPEC', verbs: FS, allowEmpty: true },
  '--boot-mount-spec': { value: 'BOOT_MOUNT_SPEC', verbs: FS, allowEmpty: true },
  '--replace': { value: 'REPLACE', verbs: FS, values: ['wipe', 'alongside'] },
  '--skip-finalize': { value: null, verbs: FS },
  '--acknowledge-destructive': { value: null, verbs: FS },
  '--source-imgref': { value: 'SOURCE_IMGREF', verbs: BOTH, check: checkSourceImgref },
  '--target-imgref': { value: 'TARGET_IMGREF', verbs: BOTH, check: checkTargetImgref },
  '--target-transport': { value: 'TARGET_TRANSPORT', verbs: BOTH, values: ['registry', 'oci', 'oci-archive', 'containers-storage'] },
  '--enforce-container-sigpolicy': { value: null, verbs: BOTH },
  '--karg': { value: 'KARG', verbs: BOTH, repeat: true, check: (v) => (/^[^\s=][^\s]*$/.test(v) ? null : 'expected KEY=VALUE or KEY without spaces') },
  '--root-ssh-authorized-keys': { value: 'ROOT_SSH_AUTHORIZED_KEYS', verbs: BOTH },
  '--stateroot': { value: 'STATEROOT', verbs: BOTH, check: (v) => (/^[A-Za-z0-9_.-]+$/.test(v) ? null : 'invalid stateroot name') },
  '--generic-image': { value: null, verbs: BOTH },
  '--bootloader': { value: 'BOOTLOADER', verbs: BOTH, values: ['grub', 'systemd', 'none'] },
  '--disable-selinux': { value: null, verbs: BOTH },
  '--skip-fetch-check': { value: null, verbs: BOTH },
  '--run-fetch-check': { value: null, verbs: BOTH },
};

function checkSourceImgref(v) {
  const t = TRANSPORTS.find((p) => v.startsWith(p));
  if (!t) return `unknown transport; expected one of ${TRANSPORTS.join(', ')}`;
  return v.length > t.length ? null : 'missing image after the transport';
}

function checkTargetImgref(v) {
  if (/^[a-z-]+:\/\//.test(v) || /^(oci|oci-archive|containers-storage|docker|registry):/.test(v)) {
    return 'a target image reference takes no transport; use --target-transport';
  }
  return v ? null : 'empty image reference';
}

const usageLine = (verb) => `Usage: bootc install ${verb} [OPTIONS] <${verb === 'to-disk' ? 'DEVICE' : 'ROOT_PATH'}>`;

/** Prints a clap-style usage error and exits 2. */
function usage(verb, first, withUsage = true) {
  err(`error: ${first}`);
  err('');
  if (withUsage) {
    err(usageLine(verb));
    err('');
  }
  err("For more information, try '--help'.");
  throw new Exit(2);
}

function help(verb) {
  const lines = Object.entries(FLAGS)
    .filter(([, f]) => f.verbs.includes(verb))
    .map(([name, f]) => `      ${name}${f.value ? ` <${f.value}>` : ''}`);
  process.stdout.write(`${usageLine(verb)}\n\nOptions:\n${lines.join('\n')}\n  -h, --help\n`);
  throw new Exit(0);
}

/**
 * Parses `install <verb> …` (argv after `bootc`). Returns { verb, target, opts } where opts maps flag
 * names without dashes to a value (string, true, or an array for --karg).
 */
export function parseBootc(argv) {
  if (argv[0] === '--version' || argv[0] === '-V') {
    process.stdout.write('bootc 1.16.0\n');
    throw new Exit(0);
  }
  if (argv[0] !== 'install') {
    if (['status', 'upgrade', 'switch', 'rollback', 'edit', 'usr-overlay', 'container'].includes(argv[0])) {
      err(`error: the test fake implements only 'bootc install', not 'bootc ${argv[0]}'`);
      throw new Exit(2);
    }
    usage('to-filesystem', argv[0] ? `unrecognized subcommand '${argv[0]}'` : "'bootc' requires a subcommand but one was not provided", false);
  }
  const verb = argv[1];
  if (verb === 'print-configuration') return { verb, target: null, opts: {} };
  if (!BOTH.includes(verb)) {
    err(verb ? `error: unrecognized subcommand '${verb}'` : "error: 'bootc install' requires a subcommand but one was not provided");
    err('');
    err('Usage: bootc install <COMMAND>');
    err('');
    err("For more information, try '--help'.");
    throw new Exit(2);
  }
  const opts = { karg: [] };
  const positionals = [];
  const seen = new Set();
  const rest = argv.slice(2);
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--') {
      positionals.push(...rest.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') help(verb);
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const flag = FLAGS[name];
    if (!flag || !flag.verbs.includes(verb)) usage(verb, `unexpected argument '${name}' found\n\n  tip: to pass '${name}' as a value, use '-- ${name}'`);
    const shown = flag.value ? `${name} <${flag.value}>` : name;
    if (!flag.value) {
      if (eq >= 0) usage(verb, `unexpected value '${arg.slice(eq + 1)}' for '${name}' found; no more were expected`);
      if (seen.has(name)) usage(verb, `the argument '${name}' cannot be used multiple times`);
      seen.add(name);
      opts[key(name)] = true;
      continue;
    }
    let value;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (i + 1 < rest.length && !rest[i + 1].startsWith('--')) value = rest[++i];
    if (value === undefined || (value === '' && !flag.allowEmpty)) usage(verb, `a value is required for '${shown}' but none was supplied`);
    if (flag.values && !flag.values.includes(value)) {
      usage(verb, `invalid value '${value}' for '${shown}'\n  [possible values: ${flag.values.join(', ')}]`, false);
    }
    const problem = flag.check?.(value);
    if (problem) usage(verb, `invalid value '${value}' for '${shown}': ${problem}`, false);
    if (flag.repeat) {
      opts[key(name)].push(value);
      continue;
    }
    if (seen.has(name)) usage(verb, `the argument '${shown}' cannot be used multiple times`);
    seen.add(name);
    opts[key(name)] = value;
  }
  const placeholder = verb === 'to-disk' ? '<DEVICE>' : '<ROOT_PATH>';
  if (positionals.length === 0) usage(verb, `the following required arguments were not provided:\n  ${placeholder}`);
  if (positionals.length > 1) usage(verb, `unexpected argument '${positionals[1]}' found`);
  if (opts.skipFetchCheck && opts.runFetchCheck) {
    usage(verb, "the argument '--skip-fetch-check' cannot be used with '--run-fetch-check'");
  }
  return { verb, target: positionals[0], opts };
}

/** `--root-ssh-authorized-keys` → `rootSshAuthorizedKeys` */
function key(flag) {
  return flag.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}
