import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { InstallPlan } from '../../shared/install';
import { ociArch, type ImageFacts } from '../system/image';

/**
 * What the plan needs of this machine, checked before its first step, so that nothing that can be
 * known before the wipe is left to fail after it: every program the plan runs on this system, and
 * what bootc reads from this system when it runs here rather than inside the image's container.
 *
 * bootc's host form (`bootc install … --source-imgref`) takes `/` for the container root
 * (crates/lib/src/install.rs:1553): it requires ostree's prepare-root.conf there
 * (install.rs:1769-1770; crates/ostree-ext/src/ostree_prepareroot.rs:47-67), and an ostree install
 * needs bootupd's `bootupctl` on PATH, or it stops with "bootupd is required for ostree-based
 * installs" (crates/lib/src/bootloader.rs:85-96, install.rs:1812-1827 and 1885-1887);
 * bootc-dev/bootc at 534c76ea474a356aa288f6767635e579ea2614d5. By then it has written to the disk.
 */

export interface PreflightHost {
  /** PATH to look programs up in. */
  readonly path: string;
  /** What plays `/` for files bootc reads from the host. */
  readonly root: string;
}

export interface PreflightProblem {
  readonly what: string;
  readonly fix: string;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether `program` would be found as the first word of an argv (absolute, or on PATH). */
export function findProgram(program: string, path: string): string | null {
  if (program.includes('/')) return isAbsolute(program) && executable(program) ? program : null;
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, program);
    if (executable(file)) return file;
  }
  return null;
}

/** Debian package names for programs a live system may lack, for the "what to do". */
const PACKAGE: Readonly<Record<string, string>> = {
  sfdisk: 'fdisk',
  wipefs: 'util-linux',
  'mkfs.xfs': 'xfsprogs',
  'mkfs.ext4': 'e2fsprogs',
  'mkfs.btrfs': 'btrfs-progs',
  btrfs: 'btrfs-progs',
  'mkfs.vfat': 'dosfstools',
  cryptsetup: 'cryptsetup',
  'systemd-cryptenroll': 'systemd-cryptsetup',
  podman: 'podman',
  skopeo: 'skopeo',
  bootupctl: 'bootupd',
  setfiles: 'policycoreutils',
  ostree: 'ostree',
};

/**
 * Every problem, in plan order, from step `from` on (a retry runs only those). Empty when the plan
 * can run here.
 */
export function preflight(plan: InstallPlan, host: PreflightHost, from = 0): PreflightProblem[] {
  const problems: PreflightProblem[] = [];
  const seen = new Set<string>();
  let hostBootc = false;
  for (const step of plan.steps.slice(from)) {
    for (const action of step.actions) {
      // A conditional command (the image's own dracut or GRUB, in a chroot) can only be judged when
      // its condition is; chroot itself is what runs here. SELinux labelling depends on the image,
      // which is known only after the wipe, so setfiles must be here in any case.
      if (action.kind === 'relabel') {
        if (!seen.has('setfiles') && findProgram('setfiles', host.path) === null) {
          problems.push({ what: `setfiles is not installed on this system (the "${step.id}" step labels the installed files with it when the image uses SELinux)`, fix: 'install it (Debian package policycoreutils)' });
        }
        seen.add('setfiles');
        continue;
      }
      if (action.kind !== 'run' || (action.when?.length ?? 0) > 0) continue;
      const program = action.argv[0]!;
      if (program === 'bootc' && action.argv.includes('--source-imgref')) hostBootc = true;
      if (seen.has(program)) continue;
      seen.add(program);
      if (findProgram(program, host.path) === null) {
        const pkg = PACKAGE[program];
        problems.push({
          what: `${program} is not installed on this system (the "${step.id}" step runs it)`,
          fix: pkg ? `install it (Debian package ${pkg})` : `install ${program}`,
        });
      }
    }
  }
  if (hostBootc) {
    const conf = ['etc/ostree/prepare-root.conf', 'usr/lib/ostree/prepare-root.conf'];
    if (!conf.some((f) => existsSync(join(host.root, f)))) {
      problems.push({
        what: 'bootc runs on this system and reads ostree/prepare-root.conf from it, but there is none in /etc or /usr/lib',
        fix: 'install from a container of the image (the podman deployer), or provide /usr/lib/ostree/prepare-root.conf as the image has it',
      });
    }
    if (findProgram('bootupctl', host.path) === null) {
      problems.push({
        what: 'bootc runs on this system and installs the boot loader with bootupd, but bootupctl is not installed here',
        fix: 'install from a container of the image (the podman deployer), or install bootupd (Debian package bootupd)',
      });
    }
  }
  return problems;
}

const GiB = 1024 ** 3;
const gib = (n: number): string => `${(n / GiB).toFixed(1)} GiB`;

/**
 * The image against the machine and the plan: it can be read; it is a bootc image when bootc
 * installs it (bootc's compatibility label `containers.bootc`, crates/lib/src/metadata.rs:1-4, or
 * ostree's `ostree.bootable`; bootc itself only logs a notice without them, deploy.rs:173-196 at
 * 534c76ea474a356aa288f6767635e579ea2614d5, and then fails later); its CPU architecture is this
 * machine's; and its compressed layers, at least doubled once unpacked, fit the root filesystem.
 */
export function imagePreflight(o: { image: string; bootc: boolean; machineArch: string; rootBytes: number | null; facts: ImageFacts }): PreflightProblem[] {
  const { facts } = o;
  const problems: PreflightProblem[] = [];
  if (facts.digest === null) {
    const tool = /^(\S+) is not installed/.exec(facts.detail)?.[1];
    const fix = tool ? `install ${tool} (Debian package ${PACKAGE[tool] ?? tool}), which reads the image before the disk is erased` : 'check the image reference and the network, or choose another image';
    problems.push({ what: `the image ${o.image} could not be read (${facts.detail.trim()})`, fix });
    return problems;
  }
  if (o.bootc && facts.labels !== null && facts.labels['containers.bootc'] === undefined && facts.labels['ostree.bootable'] === undefined) {
    problems.push({
      what: `${o.image} is not a bootc image: it has neither the containers.bootc nor the ostree.bootable label`,
      fix: 'choose a bootc image, or install this one with the oci-rootfs deployer',
    });
  }
  const arch = ociArch(o.machineArch);
  if (facts.architecture !== null && facts.architecture !== arch) {
    problems.push({ what: `${o.image} is built for ${facts.architecture}, and this computer is ${arch}`, fix: `choose the ${arch} build of the image` });
  }
  if (facts.size !== null && o.rootBytes !== null && facts.size * 2 > o.rootBytes) {
    problems.push({
      what: `${o.image} needs about ${gib(facts.size * 2)} once unpacked (${gib(facts.size)} compressed), and the root file system gets ${gib(o.rootBytes)}`,
      fix: 'choose a bigger disk or root partition, or a smaller image',
    });
  }
  return problems;
}

/**
 * Bytes the root filesystem gets: its planned partition's size, or for "the rest of the disk" the
 * disk less the other partitions; the whole disk when bootc lays the disk out itself.
 */
export function rootCapacity(plan: Pick<InstallPlan, 'disk' | 'partitions'>): number | null {
  if (plan.partitions.length === 0) return plan.disk.size;
  const root = plan.partitions.find((p) => p.mountpoint === '/') ?? plan.partitions.find((p) => p.content === 'luks2');
  if (!root) return null;
  if (root.size !== null) return root.size;
  const others = plan.partitions.filter((p) => p !== root).reduce((sum, p) => sum + (p.size ?? 0), 0);
  return plan.disk.size - others;
}

/**
 * image.enforceSignaturePolicy, before the wipe. bootc's --enforce-container-sigpolicy only records
 * that updates must be signed; it fetches the image it installs with the check relaxed (install.rs:
 * 255-275 and 1631, utils.rs:141-146 at 534c76ea474a356aa288f6767635e579ea2614d5). What verifies
 * the image is `podman pull` against this system's containers-policy.json, so that policy must
 * require a signature for the image: one that accepts it unsigned would verify nothing, one that
 * rejects it would fail the pull after the disk was erased.
 */
export function signaturePreflight(image: string, verdict: { readonly signature: string; readonly detail: string }): PreflightProblem[] {
  if (verdict.signature === 'verified') return [];
  const rejects = /rejects/.test(verdict.detail);
  return [
    {
      what: rejects
        ? `this system's signature policy rejects ${image}, so the download would fail after the disk was erased (${verdict.detail.trim()})`
        : `the answer file asks for a verified image (image.enforceSignaturePolicy), but this system's signature policy does not require a signature for ${image} (${verdict.detail.trim()})`,
      fix: 'give the registry a signedBy or sigstoreSigned requirement in /etc/containers/policy.json, or turn image.enforceSignaturePolicy off',
    },
  ];
}

/** What the real signature check (system/signature.ts) found, as pre-flight problems. */
export function signatureCheckProblems(image: string, check: { readonly ok: boolean; readonly rejected: boolean; readonly detail: string }): PreflightProblem[] {
  if (check.ok) return [];
  if (check.rejected) {
    return [{ what: `this system's signature policy rejects ${image}: ${check.detail}`, fix: 'install an image signed with a key /etc/containers/policy.json trusts, or turn image.enforceSignaturePolicy off' }];
  }
  return [{ what: `the signature of ${image} could not be checked before the disk is erased (${check.detail})`, fix: 'check the network connection and the registry, then start the install again' }];
}
