import { readFileSync } from 'node:fs';

/** Mount points at or below `dir`, in the order the kernel lists them (unmount in reverse). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((t) => t === dir || t.startsWith(`${dir}/`));
}
