import type { AnswerFile, Disk } from '../../shared';
import { makeError, type InstallerError } from '../../shared';

/** Finds the disk the answer file means; a refused disk is an error naming every reason. */
export function selectDisk(selector: AnswerFile['disk'], disks: readonly Disk[]): { disk: Disk } | { error: InstallerError } {
  let found: Disk | undefined;
  let how = '';
  if (selector.path) {
    found = disks.find((d) => d.path === selector.path);
    how = `path ${selector.path}`;
  } else if (selector.byId) {
    const want = selector.byId.startsWith('/dev/') ? selector.byId : `/dev/disk/by-id/${selector.byId}`;
    found = disks.find((d) => d.byIdPath === want);
    how = `by-id name ${selector.byId}`;
  } else if (selector.serial) {
    found = disks.find((d) => d.serial === selector.serial);
    how = `serial ${selector.serial}`;
  } else if (selector.wwn) {
    const norm = (w: string): string => w.toLowerCase().replace(/^(0x|naa\.|eui\.)/, '');
    found = disks.find((d) => d.wwn !== null && norm(d.wwn) === norm(selector.wwn!));
    how = `WWN ${selector.wwn}`;
  } else if (selector.largestEligible) {
    const eligible = disks.filter((d) => d.verdict !== 'refused').sort((a, b) => b.size - a.size);
    found = eligible[0];
    how = 'the largest eligible disk';
    if (!found) {
      return { error: makeError('disk-not-found', 'No disk can be installed to: every disk was refused.', { detail: refusals(disks) }) };
    }
  }
  if (!found) {
    return { error: makeError('disk-not-found', `No disk matches ${how}.`, { detail: `Disks seen: ${disks.map((d) => d.path).join(', ') || 'none'}` }) };
  }
  if (found.verdict === 'refused') {
    return {
      error: makeError('disk-refused', `${found.path} cannot be installed to: ${found.reasons.filter((r) => isRefusal(r.code)).map((r) => r.message).join(' ')}`, {
        detail: found.reasons.map((r) => `${r.code}: ${r.message}`).join('\n'),
      }),
    };
  }
  return { disk: found };
}

const REFUSALS = new Set(['live-medium', 'mounted', 'swap', 'held', 'read-only', 'too-small', 'virtual-device', 'optical', 'no-media', 'demo-only']);
function isRefusal(code: string): boolean {
  return REFUSALS.has(code);
}

function refusals(disks: readonly Disk[]): string {
  return disks.map((d) => `${d.path}: ${d.reasons.map((r) => r.code).join(', ')}`).join('\n');
}
