import { config } from 'zod';

// Imported first by main.tsx, before any schema in src/shared is built. The page's CSP forbids
// eval, so zod's probe for it (`new Function("")`, made while the bundle is evaluated) is refused
// anyway; but the refusal is a reported CSP violation, and reporting its line and column makes V8
// recompute source positions for the whole bundle: 20 ms of CPU here, seconds on a slow machine.
// jitless skips the probe; zod then validates as it already did (without generated code).
config({ jitless: true });
