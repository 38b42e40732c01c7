import { rmSync } from 'node:fs';
import { COUNTS_FILE } from './counts-file';

/**
 * The security project's global setup: every run starts from empty counts. `npm test` and
 * `npm run test:security` empty the file themselves and set PARTICLE_SECURITY_COUNTS=keep, because
 * they run the project in more than one vitest process and sum all of them.
 */
export default function setup(): void {
  if (process.env.PARTICLE_SECURITY_COUNTS !== 'keep') rmSync(COUNTS_FILE, { force: true });
}
