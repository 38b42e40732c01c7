// bootc's command-line grammar as clap derives it from bootc's option structs (install.rs:243-604
// and install/baseline.rs:89-116@534c76ea), with clap's refusals (exit 2). Anything bootc does not
// declare is refused, so an engine that invents a flag fails in tests. Values clap takes as plain
// strings are accepted here and judged later, where bootc judges them.
import { err, Exit } from './common.mjs';

const BOTH = ['to-filesystem', 'to-disk'];
const FS = ['to-filesystem'];
const DISK = ['to-disk'];

/**
 * flag → { value: placeholder or null for booleans, verbs, repeat, values (clap ValueEnum names;
 * `hidden` ones are accepted but not listed), requires }
 */
const FLAGS = {
  // InstallBlockDeviceOpts (baseline.rs:89-116)
  '--wipe': { value: null, verbs: DISK },
  '--block-setup': { value: 'BLOCK_SETUP', verbs: DISK, values: ['direct', 'tpm2-luks'] },
  '--filesystem': { value: 'FILESYSTEM', verbs: DISK, values: ['xfs', 'ext4', 'btrfs'] },
  '--root-size': { value: 'ROOT_SIZE', verbs: DISK },
  '--via-loopback': { value: null, verbs: DISK },
  // InstallTargetFilesystemOpts (install.rs:464-500)
  '--root-mount-spec': { value: 'ROOT_MOUNT_SPEC', verbs: FS },
  '--boot-mount-spec': { value: 'BOOT_MOUNT_SPEC', verbs: FS },
  '--replace': { value: 'REPLACE', verbs: FS, values: ['wipe', 'alongside'] },
  '--acknowledge-destructive': { value: null, verbs: FS },
  '--skip-finalize': { value: null, verbs: FS },
  // InstallSourceOpts (install.rs:299-309)
  '--source-imgref': { value: 'SOURCE_IMGREF', verbs: BOTH },
  // InstallTargetOpts (install.rs:243-297)
  '--target-transport': { value: 'TARGET_TRANSPORT', verbs: BOTH },
  '--target-imgref': { value: 'TARGET_IMGREF', verbs: BOTH },
  '--target-no-signature-verification': { value: null, verbs: BOTH, hidden: true },
  '--enforce-container-sigpolicy': { value: null, verbs: BOTH },
  '--run-fetch-check': { value: null, verbs: BOTH },
  '--skip-fetch-check': { value: null, verbs: BOTH },
  '--experimental-unified-storage': { value: null, verbs: BOTH, hidden: true },
  // InstallConfigOpts (install.rs:332-392)
  '--disable-selinux': { value: null, verbs: BOTH },
  '--karg': { value: 'KARG', verbs: BOTH, repeat: true },
  '--karg-delete': { value: 'KARG_DELETE', verbs: BOTH, repeat: true },
  '--root-ssh-authorized-keys': { value: 'ROOT_SSH_AUTHORIZED_KEYS', verbs: BOTH },
  '--generic-image': { value: null, verbs: BOTH },
  '--bound-images': { value: 'BOUND_IMAGES', verbs: BOTH, values: ['stored', 'pull'], hiddenValues: ['skip'] },
  '--stateroot': { value: 'STATEROOT', verbs: BOTH },
  '--bootupd-skip-boot-uuid': { value: null, verbs: BOTH },
  '--bootloader': { value: 'BOOTLOADER', verbs: BOTH, values: ['grub', 'grub-cc', 'systemd', 'none'] },
  // InstallComposefsOpts (install.rs:394-411)
  '--composefs-backend': { value: null, verbs: BOTH },
  '--allow-missing-verity': { value: null, verbs: BOTH, requires: '--composefs-backend' },
  '--uki-addon': { value: 'UKI_ADDON', verbs: BOTH, repeat: true, requires: '--composefs-backend' },
};

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
    .filter(([, f]) => f.verbs.includes(verb) && !f.hidden)
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
  if (verb === 'print-configuration') return parsePrintConfiguration(argv.slice(2));
  if (verb === 'finalize') return parseFinalize(argv.slice(2));
  if (!BOTH.includes(verb)) {
    err(verb ? `error: unrecognized subcommand '${verb}'` : "error: 'bootc install' requires a subcommand but one was not provided");
    err('');
    err('Usage: bootc install <COMMAND>');
    err('');
    err("For more information, try '--help'.");
    throw new Exit(2);
  }
  const opts = { karg: [], kargDelete: [], ukiAddon: [] };
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
    // clap's String parser takes an empty `--flag=`; only a missing value is refused.
    if (value === undefined) usage(verb, `a value is required for '${shown}' but none was supplied`);
    if (flag.values && !flag.values.includes(value) && !flag.hiddenValues?.includes(value)) {
      usage(verb, `invalid value '${value}' for '${shown}'\n  [possible values: ${flag.values.join(', ')}]`, false);
    }
    if (flag.repeat) {
      opts[key(name)].push(value);
      seen.add(name);
      continue;
    }
    if (seen.has(name)) usage(verb, `the argument '${shown}' cannot be used multiple times`);
    seen.add(name);
    opts[key(name)] = value;
  }
  const placeholder = verb === 'to-disk' ? '<DEVICE>' : '<ROOT_PATH>';
  if (positionals.length === 0) usage(verb, `the following required arguments were not provided:\n  ${placeholder}`);
  if (positionals.length > 1) usage(verb, `unexpected argument '${positionals[1]}' found`);
  // clap `requires` (install.rs:402-410); --skip-fetch-check and --run-fetch-check do not conflict.
  for (const [name, flag] of Object.entries(FLAGS)) {
    if (flag.requires && seen.has(name) && !seen.has(flag.requires)) usage(verb, `the following required arguments were not provided:\n  ${flag.requires}`);
  }
  return { verb, target: positionals[0], opts };
}

/** `--root-ssh-authorized-keys` → `rootSshAuthorizedKeys` */
function key(flag) {
  return flag.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

/** `bootc install print-configuration [--all]` (InstallPrintConfigurationOpts, install.rs:598-604). */
/** `install finalize <ROOT_PATH>` (InstallOpts::Finalize, cli.rs:323-328): one path, no options. */
function parseFinalize(rest) {
  const usageFinalize = (first) => {
    err(`error: ${first}`);
    err('');
    err('Usage: bootc install finalize <ROOT_PATH>');
    err('');
    err("For more information, try '--help'.");
    throw new Exit(2);
  };
  const positionals = [];
  for (const arg of rest) {
    if (arg === '-h' || arg === '--help') {
      process.stdout.write('Usage: bootc install finalize <ROOT_PATH>\n\nArguments:\n  <ROOT_PATH>\n\nOptions:\n  -h, --help\n');
      throw new Exit(0);
    }
    if (arg.startsWith('-') && arg !== '-') usageFinalize(`unexpected argument '${arg}' found`);
    positionals.push(arg);
  }
  if (positionals.length === 0) usageFinalize('the following required arguments were not provided:\n  <ROOT_PATH>');
  if (positionals.length > 1) usageFinalize(`unexpected argument '${positionals[1]}' found`);
  return { verb: 'finalize', target: positionals[0], opts: {} };
}

function parsePrintConfiguration(rest) {
  const opts = {};
  for (const arg of rest) {
    if (arg === '--all' && !opts.all) opts.all = true;
    else if (arg === '--all') usageFor('print-configuration', "the argument '--all' cannot be used multiple times");
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write('Usage: bootc install print-configuration [OPTIONS]\n\nOptions:\n      --all\n  -h, --help\n');
      throw new Exit(0);
    } else usageFor('print-configuration', `unexpected argument '${arg}' found`);
  }
  return { verb: 'print-configuration', target: null, opts };
}

function usageFor(verb, first) {
  err(`error: ${first}`);
  err('');
  err(`Usage: bootc install ${verb} [OPTIONS]`);
  err('');
  err("For more information, try '--help'.");
  throw new Exit(2);
}
