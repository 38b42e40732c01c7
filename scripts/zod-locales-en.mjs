// Stands in for zod's locales/index.js in the engine bundle (scripts/build-engine.mjs). zod's `z`
// namespace re-exports all of its ~50 error-message locales, which esbuild cannot drop (Rollup does,
// for the renderer), and nothing here switches zod to another (the wizard translates its own
// messages): they were 400 KB of the 1.6 MB bundle that node parses before the engine listens.
export { default as en } from 'zod/v4/locales/en.js';
