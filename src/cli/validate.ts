import { readFile, stat } from 'node:fs/promises';
import { MAX_MESSAGE_BYTES, validateAnswerFile } from '../shared';
import { CliError, UsageError, parseCommandArgs, println, type CliIo } from './io';

/** Answer files are small; anything bigger is surely the wrong file. */
const MAX_ANSWER_FILE_BYTES = MAX_MESSAGE_BYTES;

/** Reads a whole file for a command, turning I/O failures into exit-2 CliErrors. */
export async function readUserFile(file: string, maxBytes: number): Promise<string> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new CliError(`${file}: not a regular file`, 2);
    if (st.size > maxBytes) throw new CliError(`${file}: too large (${st.size} bytes; at most ${maxBytes})`, 2);
    return await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String((e as Error).message);
    throw new CliError(`cannot read ${file}: ${why}`, 2);
  }
}

/** `validate FILE`: 0 valid, 1 invalid (one line per error), 2 unreadable. */
export async function validateCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('validate', args, { help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) return -1;
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'validate needs a FILE' : 'validate takes exactly one FILE', 'validate');
  const file = positionals[0]!;
  const text = await readUserFile(file, MAX_ANSWER_FILE_BYTES);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    println(io.stdout, `${file}: not valid JSON (answer files are JSON; YAML is not supported): ${(e as Error).message}`);
    return 1;
  }
  const r = validateAnswerFile(doc);
  if (r.ok) {
    println(io.stdout, `${file}: valid`);
    return 0;
  }
  for (const err of r.errors) println(io.stdout, `${file}: ${err.field}: ${err.message}`);
  return 1;
}
