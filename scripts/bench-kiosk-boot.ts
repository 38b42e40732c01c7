/**
 * Power-on to the wizard on the live ISO's own screen, measured as a person sees it: boots the ISO
 * in QEMU (default menu entry, nobody touching a key), looks at the guest's screen every few seconds
 * (screendump + OCR), and prints when each stage showed and the longest blank stretch.
 *
 *   npx tsx scripts/bench-kiosk-boot.ts --iso FILE [--firmware bios|uefi] [--vga std|virtio] [--boots N] [--out DIR]
 *                                       [--blank-limit SECONDS] [--diagnose]
 *
 * --diagnose logs in on the serial console at the end and keeps systemd-analyze, the engine's journal,
 * the kiosk's log and the busiest processes in diagnostics.txt.
 *
 * As root, with QEMU, OVMF (for uefi) and tesseract. Each boot's screendumps and serial log are kept.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PRODUCT } from '../test/qa/wizard';
import { bootToWizard } from '../test/qa/kiosk';
import { accelerator, killAllVms } from '../test/vm/qemu';

const { values } = parseArgs({
  options: {
    iso: { type: 'string' },
    firmware: { type: 'string', default: 'bios' },
    vga: { type: 'string', default: 'std' },
    boots: { type: 'string', default: '1' },
    out: { type: 'string', default: 'test-results/kiosk-boot' },
    'blank-limit': { type: 'string', default: '60' },
    diagnose: { type: 'boolean', default: false },
  },
});
if (!values.iso) throw new Error('--iso FILE is needed');
const firmware = values.firmware === 'uefi' ? 'uefi' : 'bios';
const vga = values.vga === 'virtio' ? 'virtio' : 'std';
const out = resolve(values.out!);
const accel = await accelerator();
const results = [];
try {
  for (let i = 1; i <= Number(values.boots); i++) {
    const dir = join(out, `${firmware}-${vga}-${i}`);
    mkdirSync(dir, { recursive: true });
    const r = await bootToWizard({ iso: resolve(values.iso), firmware, vga, accel, dir, product: PRODUCT, blankLimitS: Number(values['blank-limit']), diagnose: values.diagnose, log: (l) => console.log(`[boot ${i}] ${l}`) });
    results.push(r);
    console.log(`[boot ${i}] ${JSON.stringify(r)}`);
  }
} finally {
  killAllVms();
}
writeFileSync(join(out, `${firmware}-${vga}.json`), `${JSON.stringify(results, null, 2)}\n`);
const shown = results.filter((r) => r.wizardSeconds !== null);
console.log(`kiosk boots (${firmware}, ${vga}, ${accel}): wizard on screen in ${shown.length} of ${results.length}; ` +
  `power-on to wizard ${shown.map((r) => r.wizardSeconds!.toFixed(0)).join(', ') || '-'} s; ` +
  `longest blank ${results.map((r) => (r.longestBlankSeconds ?? 0).toFixed(0)).join(', ')} s`);
