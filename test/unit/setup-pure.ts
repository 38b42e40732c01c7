import { createRequire, syncBuiltinESMExports } from 'node:module';

/**
 * The unit project holds pure tests: no child process (so no root tool, no loop device, no mkfs, no
 * CLI run as a program). Every way of starting one throws here, naming the rule, so a test that needs
 * one fails at once and belongs in the integration project.
 */
const require = createRequire(import.meta.url);
const childProcess = require('node:child_process') as Record<string, unknown>;
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  childProcess[name] = () => {
    throw new Error(`unit tests are pure: child_process.${name} was called; a test that runs programs belongs in test/integration`);
  };
}
syncBuiltinESMExports();
