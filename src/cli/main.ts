#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CommandError } from '../engine/exec';
import { disksCommand } from './disks';
import { planCommand } from './plan';
import { installCommand } from './install';
import { bundleCommand } from './bundle';
import { CliError, PROGRAM, UsageError, println, type CliIo } from './io';
import { serveCommand, serviceCommand } from './service';
import { USAGE } from './usage';
import { validateCommand } from './validate';

/**
 * `particle-installer`: the command-line front door to the engine. Each command returns its exit
 * code; -1 means "print my --help". User errors print one line, never a stack trace.
 */

type Command = (args: readonly string[], io: CliIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  disks: disksCommand,
  validate: validateCommand,
  plan: planCommand,
  install: installCommand,
  'bundle-logs': bundleCommand,
  service: serviceCommand,
  serve: serveCommand,
};

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined) throw new UsageError('no command given', null);
    if (name === '--help' || name === '-h' || name === 'help') {
      const topic = name === 'help' && rest[0] !== undefined && USAGE[rest[0]] ? rest[0] : 'main';
      println(io.stdout, USAGE[topic]);
      return 0;
    }
    const command = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (command === undefined) throw new UsageError(name.startsWith('-') ? `unknown option ${name}` : `unknown command "${name}"`, null);
    const code = await command(rest, io);
    if (code === -1) {
      println(io.stdout, USAGE[name]);
      return 0;
    }
    return code;
  } catch (e) {
    if (e instanceof UsageError) {
      println(io.stderr, `${PROGRAM}: ${e.message}`);
      println(io.stderr, USAGE[e.command ?? 'main']);
      return 2;
    }
    if (e instanceof CliError) {
      println(io.stderr, `${PROGRAM}: ${e.message}`);
      return e.exitCode;
    }
    if (e instanceof CommandError) {
      println(io.stderr, `${PROGRAM}: ${e.error.message}${e.error.stderrTail ? `\n${e.error.stderrTail}` : ''}`);
      return 1;
    }
    // A bug, not a user error: the stack helps a report, so it goes to stderr here only.
    println(io.stderr, `${PROGRAM}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 70;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
