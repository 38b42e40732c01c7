import type { Disk } from '../shared';

/** 68719476736 → "64.0 GiB": binary units, as partitioning tools show them. */
export function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let u = 0;
  while (value >= 1024 && u < units.length - 1) {
    value /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[u]}`;
}

/** Parses a byte count: digits, optionally followed by K, M, G or T (binary units). */
export function parseSize(text: string): number | null {
  const m = /^(\d+)\s*([KMGT])?(i?B)?$/i.exec(text.trim());
  if (!m) return null;
  const power = m[2] ? 'KMGT'.indexOf(m[2].toUpperCase()) + 1 : 0;
  const n = Number(m[1]) * 1024 ** power;
  return Number.isSafeInteger(n) ? n : null;
}

/** Lays rows out in columns separated by two spaces; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

/** The readable `disks` listing: one row per disk, each reason indented below it. */
export function formatDisks(disks: readonly Disk[]): string {
  if (disks.length === 0) return 'No disks found.\n';
  const header = ['PATH', 'MODEL', 'SIZE', 'TRANSPORT', 'VERDICT'];
  const rows = disks.map((d) => [d.path, d.model ?? '-', humanSize(d.size), d.transport ?? '-', d.verdict]);
  const lines = table([header, ...rows]);
  const out = [lines[0]];
  disks.forEach((d, i) => {
    out.push(lines[i + 1]);
    for (const r of d.reasons) out.push(`    ${r.code}: ${r.message}`);
  });
  return `${out.join('\n')}\n`;
}
