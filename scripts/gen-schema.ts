// Writes docs/answer-file.schema.json from the zod schema in src/shared/answer-file.ts.
// `--check` exits 1 when the checked-in file is stale instead of writing it.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { AnswerFileSchema } from '../src/shared/answer-file';

export const SCHEMA_PATH = fileURLToPath(new URL('../docs/answer-file.schema.json', import.meta.url));

/** The JSON Schema text for answer files, as it is checked in. */
export function answerFileSchemaText(): string {
  // "input": what a person writes, so fields with defaults are optional.
  const schema = z.toJSONSchema(AnswerFileSchema, { io: 'input', unrepresentable: 'throw' }) as Record<string, unknown>;
  const doc = {
    $schema: schema.$schema,
    $id: 'https://particle-installer.org/schemas/answer-file-v1.json',
    title: 'Particle Installer answer file, version 1',
    description: 'Everything the installer asks, so the same install can run unattended. Generated from src/shared/answer-file.ts by `npm run schema`; do not edit.',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = answerFileSchemaText();
  if (process.argv.includes('--check')) {
    const current = readFileSync(SCHEMA_PATH, 'utf8');
    if (current !== text) {
      console.error('docs/answer-file.schema.json is stale: run `npm run schema`.');
      process.exit(1);
    }
    console.log('docs/answer-file.schema.json is up to date.');
  } else {
    writeFileSync(SCHEMA_PATH, text);
    console.log(`wrote ${SCHEMA_PATH.split('/').slice(-2).join('/')}`);
  }
}
