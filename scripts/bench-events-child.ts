// Synthetic event load for npm run bench: the engine service on its stdio transport, exactly as
// `particle-installer service --stdio` wires it (RPC core, contract check, one JSON line per event),
// with COUNT step-progress events pushed through engine.emit as fast as stdout drains. The parent
// reads and parses them on the other end of the pipe. Bundled and run with node by bench-install.ts.
import { createEngine } from '../src/engine/engine';
import { createRpcServer, serveStdio, silentLogger } from '../src/service';
import type { ProgressEvent } from '../src/shared';

const COUNT = Number(process.argv[2] ?? 50_000);
const BATCH = 200;

const engine = createEngine({ mode: 'test' });
const transport = serveStdio(createRpcServer(engine, silentLogger));
const drained = (): Promise<void> =>
  process.stdout.writableNeedDrain ? new Promise((r) => process.stdout.once('drain', () => r())) : Promise.resolve();

// Start once the parent says so (any request line), so process start-up is not in the figure.
process.stdin.once('data', () => void pump());

async function pump(): Promise<void> {
  for (let i = 0; i < COUNT; i += BATCH) {
    for (let k = i; k < Math.min(COUNT, i + BATCH); k++) {
      const f = k / COUNT;
      const ev: ProgressEvent = { kind: 'step-progress', step: 'deploy', fraction: f, message: `Fetching layer ${k % 7}/7`, overall: { fraction: 0.3 + 0.4 * f, etaSeconds: 120 } };
      engine.emit('progress', ev);
    }
    await drained();
    await new Promise((r) => setImmediate(r));
  }
  await drained();
  await transport.close();
}
