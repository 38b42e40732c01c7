// `npm run test:security`: the adversarial tests (vitest project "security"), then what they did,
// summed from the counts each test records after its assertions pass (test/security/counts.ts).
import { spawnSync } from 'node:child_process';
import { printSecurityCounts, resetSecurityCounts } from './security-counts.mjs';

resetSecurityCounts();
// Emptied once here: the vitest runs below (more than one) add to the same file.
process.env.PARTICLE_SECURITY_COUNTS = 'keep';
const r = spawnSync('npx', ['vitest', 'run', '--project', 'security', ...process.argv.slice(2)], { stdio: 'inherit' });
printSecurityCounts();
if (r.status !== 0) console.log('(some security tests failed: the counts above are from the tests that passed)');
process.exit(r.status ?? 1);
