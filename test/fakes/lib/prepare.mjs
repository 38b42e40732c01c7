// bootc's prepare_install (install.rs:1545-1810@534c76ea), shared by to-filesystem and to-disk: the
// privilege and container checks, the source and target image references, the install
// configuration, the SELinux decision, "Installing image:", the root filesystem type,
// prepare-root.conf and the root's SSH keys, all in bootc's order.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { loadConfig, configFsType } from './config.mjs';
import { fail, say } from './common.mjs';
import { hostRoot, imageRoot, requirePrepareRoot, selinuxState } from './roots.mjs';

/** containers-image-proxy's Transport names (transport.rs, with bare names as of bootc-dev/containers-image-proxy-rs#138). */
const TRANSPORTS = { registry: 'registry', docker: 'registry', oci: 'oci', 'oci-archive': 'oci-archive', 'docker-archive': 'docker-archive', 'containers-storage': 'containers-storage', dir: 'dir', 'docker-daemon': 'docker-daemon' };

/** Transport Display (containers-image-proxy transport.rs): how a reference is written. */
const TRANSPORT_PREFIX = { registry: 'docker://', oci: 'oci:', 'oci-archive': 'oci-archive:', 'docker-archive': 'docker-archive:', 'containers-storage': 'containers-storage:', dir: 'dir:', 'docker-daemon': 'docker-daemon:' };

/**
 * ImageReference::try_from (containers-image-proxy transport.rs): `transport:name`, `docker://name`.
 * Returns { transport, name } or an error text.
 */
export function parseImageRef(value) {
  const colon = value.indexOf(':');
  if (colon < 0) return { error: `Missing ':' in ${value}` };
  const prefix = value.slice(0, colon);
  let name = value.slice(colon + 1);
  const transport = prefix === 'docker' ? 'registry' : TRANSPORTS[prefix];
  if (!transport || (prefix === 'docker' && !name.startsWith('//'))) return { error: prefix === 'docker' ? `Missing // in docker:// in ${value}` : `Invalid transport: ${prefix}` };
  if (prefix === 'docker') name = name.slice(2);
  if (!name) return { error: `Invalid empty name in ${value}` };
  return { transport, name };
}

/** `transport:name` as ImageReference Display writes it (`docker://name` for registry). */
export const imageRefString = (ref) => `${TRANSPORT_PREFIX[ref.transport]}${ref.name}`;

/**
 * OstreeImageReference Display (ostree-ext container/mod.rs:296-327): the origin's
 * `container-image-reference` (`alternate` false) and the "Installing image:" text (`alternate` true).
 */
export function ostreeImageRef(target, alternate) {
  if (!target.signed && target.transport === 'registry') {
    return alternate ? imageRefString(target) : `ostree-unverified-registry:${target.name}`;
  }
  return `${target.signed ? 'ostree-image-signed' : 'ostree-unverified-image'}:${imageRefString(target)}`;
}

/**
 * prepare_install. `verb` is the context of the calling verb ("Installing to filesystem" /
 * "Installing to disk"), `targetFs` the filesystem type to-filesystem found or --filesystem.
 * Returns the state the rest of the install reads.
 */
export async function prepareInstall(opts, ctx, verb, targetFs) {
  let source;
  let containerRoot;
  if (!opts.sourceImgref) {
    // install.rs:1559-1587, in this order.
    if (!ctx.inContainer) fail(`${verb}: Either --source-imgref must be defined or this command must be executed inside a podman container.`);
    // require_root(true) (cli.rs:1040-1063): uid 0 holds inside any podman container; the capability needs --privileged.
    if (!ctx.container.privileged) fail(`${verb}: Querying root privilege: The container must be executed with full privileges (e.g. --privileged flag)`);
    if (!ctx.container.pidHost) fail(`${verb}: This command must be run with the podman --pid=host flag`);
    if (ctx.container.proc1Uid !== 0) {
      fail(`${verb}: /proc/1 is owned by ${ctx.container.proc1Uid}, not zero; this command must be run in the root user namespace (e.g. not rootless podman)`);
    }
    if (ctx.container.rootless) fail(`${verb}: Cannot install from rootless podman; this command must be run as root`);
    const image = ctx.containerImage;
    // SourceInfo::from_container (install.rs:819-838): the image as /run/.containerenv names it, with its digest.
    source = { transport: 'containers-storage', name: image.ref, digest: image.digest, image };
    containerRoot = ctx.imageRoot ?? imageRoot();
  } else {
    // require_root(false) (cli.rs:1040-1063): nothing about containers is checked (install.rs:1589-1593).
    if (ctx.uid !== 0) fail(`${verb}: Querying root privilege: This command must be executed as the root user`);
    const parsed = parseImageRef(opts.sourceImgref);
    if (parsed.error) fail(`${verb}: Creating source info from a given imageref: ${parsed.error}`);
    source = { ...parsed, digest: null, image: null };
    containerRoot = hostRoot();
  }

  // install.rs:1597-1622: the install configuration of `/`; CLI wins over it.
  const config = loadConfig(containerRoot);
  const bootloader = opts.bootloader ?? config?.bootloader ?? null;
  const enforce = Boolean(opts.enforceContainerSigpolicy || config?.['enforce-container-sigpolicy']);

  // install.rs:1631-1644: the target defaults to the source's name, with --target-transport
  // (default "registry") whatever the source's transport was.
  const transportName = opts.targetTransport ?? 'registry';
  const transport = TRANSPORTS[transportName];
  if (!transport || transportName === 'docker') fail(`${verb}: Invalid transport: ${transportName}`);
  const target = { transport, name: opts.targetImgref ?? source.name, signed: enforce };

  if (opts.composefsBackend) fail('test fake: --composefs-backend installs are not modelled');
  // install.rs:1689-1691: --run-fetch-check fetches the target's manifest and prints nothing;
  // the fake has no registry to ask. --skip-fetch-check is never read (install.rs:283-287).

  const selinux = await selinuxState(containerRoot, Boolean(opts.disableSelinux), say);

  // install.rs:1705-1708
  await say(`Installing image: ${ostreeImageRef(target, true)}`);
  if (source.digest) await say(`Digest: ${source.digest}`);

  // install.rs:1710-1715
  const rootFs = targetFs ?? configFsType(config);
  if (!rootFs) fail(`${verb}: No root filesystem specified`);

  requirePrepareRoot(containerRoot, verb);

  // install.rs:1782-1788: the file is read as it is, not checked.
  let keys = null;
  if (opts.rootSshAuthorizedKeys !== undefined) {
    const path = ctx.host(opts.rootSshAuthorizedKeys);
    if (!path || !existsSync(path)) fail(`${verb}: Reading ${opts.rootSshAuthorizedKeys}: No such file or directory (os error 2)`);
    if (statSync(path).isDirectory()) fail(`${verb}: Reading ${opts.rootSshAuthorizedKeys}: Is a directory (os error 21)`);
    keys = readFileSync(path, 'utf8');
  }

  return { verb, opts, ctx, source, target, config, bootloader, selinux, rootFs, keys, containerRoot, stateroot: opts.stateroot ?? config?.stateroot ?? 'default' };
}
