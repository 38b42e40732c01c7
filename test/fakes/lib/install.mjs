// `bootc install to-filesystem` (and the shared staged install that to-disk reuses): preflight checks
// with bootc's refusals, then the documented stage lines, failure injection and the tree on disk.
import { existsSync, readdirSync, readFileSync, rmSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { disksOf, findEsp, fsUuid, isMountpoint, mountAt } from './block.mjs';
import { env, Exit, fail, failureMessage, humanSize, injectedFailure, maybeHang, must, say, sleep, spendFailure } from './common.mjs';
import { describeImage, findImage, normalizeRef, ociArchiveName, ociLayoutName, localName } from './storage.mjs';
import { initLayout, injectRootKeys, originRef, writeAleph, writeBootEntry, writeDeployment, writePayload } from './tree.mjs';

const KEY_LINE = /^(?:\S+\s+)?(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)\s+[A-Za-z0-9+/]+={0,3}(?:\s.*)?$/;

/** Host form only: inside podman, the podman fake has already made the container's checks. */
export function requireRoot(uid, inContainer) {
  if (uid === 0 || inContainer) return;
  fail('Querying root privilege: This command must be executed as the root user');
}

/**
 * Resolves what to install: { image, shown (for "Installing image:"), name (for the aleph),
 * defaultTarget: { name, transport } }. `host(path)` maps a path bootc sees to a host path.
 */
export function resolveSource(opts, { containerImage, host }) {
  const src = opts.sourceImgref;
  if (!src) {
    if (!containerImage) fail('Either --source-imgref must be defined or this command must be executed inside a podman container.');
    return { image: containerImage, shown: `docker://${containerImage.ref}`, name: containerImage.ref, defaultTarget: { name: containerImage.ref, transport: 'registry' } };
  }
  if (src.startsWith('docker://')) {
    const norm = normalizeRef(src.slice('docker://'.length));
    if (norm.error) fail(`Installing to filesystem: Parsing ${src}: ${norm.error}`);
    return { image: describeImage(norm.ref), shown: `docker://${norm.ref}`, name: norm.ref, defaultTarget: { name: norm.ref, transport: 'registry' } };
  }
  if (src.startsWith('containers-storage:')) {
    const name = src.slice('containers-storage:'.length);
    const image = findImage(name);
    if (!image) fail(`Installing to filesystem: Creating ostree deployment: Pulling: Creating importer: failed to invoke method OpenImage: ${src}: image not known`);
    return { image, shown: src, name: image.ref, defaultTarget: { name: image.ref, transport: 'containers-storage' } };
  }
  const archive = src.startsWith('oci-archive:');
  const body = src.slice(archive ? 'oci-archive:'.length : 'oci:'.length);
  // oci:DIR:REF names one image of a layout; a path never contains the last colon's suffix here.
  const m = /^(.*?)(?::([^/:]+))?$/.exec(body);
  const path = host(m[1]);
  const read = path ? (archive ? ociArchiveName(path) : ociLayoutName(path)) : { error: `open ${m[1]}: no such file or directory` };
  if (read.error) fail(`Installing to filesystem: Creating ostree deployment: Pulling: Creating importer: failed to invoke method OpenImage: ${read.error}`);
  const image = describeImage(localName(m[1], m[2] ?? read.name));
  return { image, shown: src, name: image.ref, defaultTarget: { name: body, transport: archive ? 'oci-archive' : 'oci' } };
}

/** Reads and checks --root-ssh-authorized-keys before anything is written. */
export function readKeys(opts, host) {
  const given = opts.rootSshAuthorizedKeys;
  if (given === undefined) return null;
  const path = host(given);
  if (!path || !existsSync(path) || !statSync(path).isFile()) fail(`Installing to filesystem: Reading ${given}: No such file or directory (os error 2)`);
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n').map((l) => l.trim());
  const bad = lines.findIndex((l) => l && !l.startsWith('#') && !KEY_LINE.test(l));
  if (bad >= 0) fail(`Installing to filesystem: Parsing ${given}: invalid SSH public key on line ${bad + 1}`);
  if (!lines.some((l) => l && !l.startsWith('#'))) fail(`Installing to filesystem: Parsing ${given}: no SSH public keys found`);
  return text;
}

/** What bootc refuses about a to-filesystem target; `shown` is the path as bootc was given it. */
export function checkTargetRoot(root, shown, opts) {
  if (!existsSync(root)) fail(`Installing to filesystem: Opening ${shown}: No such file or directory (os error 2)`);
  const mount = mountAt(root);
  if (!mount) fail(`Not a mountpoint: ${shown}`);
  if (!['xfs', 'ext4', 'btrfs'].includes(mount.fstype)) fail(`Installing to filesystem: Unsupported root filesystem type ${mount.fstype} on ${shown}`);
  if (mount.options.split(',').includes('ro')) fail(`Installing to filesystem: ${shown} is mounted read-only`);
  if (opts.replace === 'alongside') return;
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    if (name === 'lost+found' || isMountpoint(path)) continue;
    if (name === 'boot' && statSync(path).isDirectory() && readdirSync(path).length === 0) continue;
    if (opts.replace === 'wipe') rmSync(path, { recursive: true, force: true });
    else fail(`Non-empty root filesystem; found ${JSON.stringify(name)}`);
  }
}

/** Fails or hangs here when the environment asks for it; `partial` runs before failing. */
async function checkpoint(stage, ctx, partial) {
  await maybeHang(stage);
  const f = injectedFailure();
  if (!f || f.stage !== stage) return;
  spendFailure(f);
  if (partial) await partial();
  fail(failureMessage(stage, f.kind, ctx));
}

/**
 * The staged install into a mounted root. `root` is the host path, `shown` what bootc was given.
 * `finalize` remounts read-only at the end (to-disk unmounts anyway).
 */
export async function installTree({ root, shown, opts, source, keys, finalize }) {
  const started = Date.now();
  const mount = mountAt(root);
  const disk = mount ? disksOf(mount.source)[0] ?? mount.source : '/dev/vda';
  const ctx = { image: source.image.ref, target: shown, disk };
  const stateroot = opts.stateroot ?? 'default';
  const { image } = source;

  await say(`Installing image: ${source.shown}`);
  await checkpoint('pull', ctx);
  await say(`Digest: ${image.digest}`);

  await say('Initializing ostree layout');
  await checkpoint('init', ctx, async () => initLayout(root));
  initLayout(root);

  const free = statfsSync(root);
  const available = free.bavail * free.bsize;
  const required = Math.ceil(image.size * 1.1);
  if (available < required) fail(`Installing to filesystem: Insufficient free space for ${shown} (available: ${humanSize(available)} required: ${humanSize(required)})`);
  await say(`layers already present: 0; layers needed: ${image.layers.length} (${humanSize(image.size)})`);
  await checkpoint('deploy', ctx, () => writePayload(root, image, image.size, { limit: 0.5 }));
  await writePayload(root, image, image.size, { onLayer: () => sleep(env.layerDelayMs()) });

  const bootMounted = isMountpoint(join(root, 'boot'));
  const bootMount = bootMounted ? mountAt(join(root, 'boot')) : null;
  const target = opts.targetImgref ? { name: opts.targetImgref, transport: opts.targetTransport ?? 'registry' } : source.defaultTarget;
  const { rel, csum } = writeDeployment(root, {
    image,
    stateroot,
    origin: originRef(target.name, target.transport, Boolean(opts.enforceContainerSigpolicy)),
    bootMount: bootMount ? { spec: opts.bootMountSpec ?? `UUID=${fsUuid(bootMount.source)}`, fstype: bootMount.fstype } : null,
  });
  writeBootEntry(join(root, 'boot'), { csum, stateroot, bootPrefix: bootMounted ? '' : '/boot', options: kernelOptions(mount, opts) });
  writeAleph(root, source.name);
  await say(`Deploying container image...done (${Math.round((Date.now() - started) / 1000)} seconds)`);
  if (keys !== null) await say(`Injected: ${injectRootKeys(root, rel, keys)}`);

  const loader = opts.bootloader ?? 'grub';
  if (loader !== 'none') {
    await say(`Bootloader: ${loader}`);
    await say(loader === 'grub' ? 'Installing bootloader via bootupd' : 'Installing bootloader via bootctl');
  }
  await checkpoint('bootloader', ctx);
  if (loader !== 'none') {
    const esp = disksOf(mount.source).map(findEsp).find(Boolean);
    if (!esp) fail(`Installing bootloader: Failed to find ESP device on ${disk}`);
  }

  if (finalize) {
    await say('Trimming root');
    await checkpoint('finalize', ctx);
    await say('Finalizing filesystem root');
    // bootc leaves the target read-only; an installer that configures afterwards must remount rw.
    must(['mount', '-o', 'remount,ro', root], 'Finalizing filesystem root');
  } else {
    await checkpoint('finalize', ctx);
  }
  await say('Installation complete!');
  return { deployment: rel, checksum: csum };
}

/** `root=… [rootflags=subvol=…] rw` then every --karg in order. */
function kernelOptions(mount, opts) {
  const out = [];
  if (opts.rootMountSpec === undefined) out.push(`root=UUID=${fsUuid(mount.source)}`);
  else if (opts.rootMountSpec !== '') out.push(`root=${opts.rootMountSpec}`);
  if (mount.fstype === 'btrfs' && mount.root !== '/') out.push(`rootflags=subvol=${mount.root.replace(/^\//, '')}`);
  out.push('rw', ...(opts.karg ?? []));
  return out;
}

/** The whole to-filesystem verb. `host` maps paths as bootc sees them to host paths. */
export async function toFilesystem(cmd, env) {
  requireRoot(env.uid, env.inContainer);
  const root = env.host(cmd.target);
  const source = resolveSource(cmd.opts, env);
  const keys = readKeys(cmd.opts, env.host);
  if (!root) fail(`Installing to filesystem: Opening ${cmd.target}: No such file or directory (os error 2)`);
  checkTargetRoot(root, cmd.target, cmd.opts);
  await installTree({ root, shown: cmd.target, opts: cmd.opts, source, keys, finalize: !cmd.opts.skipFinalize });
}

/** `bootc install print-configuration`: the image's install config. */
export function printConfiguration() {
  process.stdout.write(`${JSON.stringify({ 'root-fs-type': 'xfs', kargs: [] })}\n`);
  throw new Exit(0);
}
