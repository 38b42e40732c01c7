import { resolve } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';

// `npm test` runs some VM files in a second vitest process (scripts/test-all.mjs) and names them here
// so that this process leaves them out.
const vmElsewhere = (process.env.PARTICLE_VM_EXCLUDE ?? '').split(',').filter(Boolean);

// Three levels, each its own project: unit (pure, fast), integration (root, loop devices),
// e2e (Debian's Chromium driving the served UI). Levels that cannot run here skip with a reason.
export default defineConfig({
  // As in the renderer build: the branding folder behind @branding (PARTICLE_BRANDING, default particleos).
  resolve: { alias: { '@branding': resolve(import.meta.dirname, 'resources/branding', process.env.PARTICLE_BRANDING ?? 'particleos') } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx'],
          environment: 'node',
          // Pure: starting any program throws (test/unit/setup-pure.ts).
          setupFiles: ['test/unit/setup-pure.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 90_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'vm',
          include: ['test/vm/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...vmElsewhere],
          testTimeout: 600_000,
          hookTimeout: 45 * 60_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // Adversarial tests: protocol fuzzing, authentication, injection, disk safety, recovery.
          name: 'security',
          include: ['test/security/**/*.test.ts'],
          // Every run starts from empty counts (test/security/counts.ts).
          globalSetup: ['test/security/counts-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'electron',
          include: ['test/electron/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
