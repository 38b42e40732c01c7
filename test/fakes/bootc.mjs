// The host form of the bootc contract fake: `bootc install to-filesystem|to-disk …` run directly on
// the installing machine, which needs --source-imgref because there is no container image to
// install from, and which reads what bootc reads from `/` from the host (lib/roots.mjs).
import { resolve } from 'node:path';
import { logInvocation, main } from './lib/common.mjs';
import { runBootc } from './lib/run.mjs';

const argv = process.argv.slice(2);
logInvocation('bootc', argv);
await main(() => runBootc(argv, { uid: process.getuid(), inContainer: false, containerImage: null, host: (p) => resolve(p), container: null }));
