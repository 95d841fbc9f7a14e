import { CommanderError } from 'commander';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, CrucibleError, ExitCode, ExitError, storageErrorFrom } from '../errors.js';
import { mapStack } from './map-stack.js';
import { createOutput, type Output } from './output.js';
import { buildProgram } from './program.js';

/**
 * The only place that exits the process. Every command either returns (exit 0), throws a
 * CrucibleError (one clear line, its documented exit code) or ExitError (already reported).
 */
async function main(argv: readonly string[]): Promise<number> {
  let output = createOutput();
  const ctx = {
    output,
    makeOutput: (verbose: boolean): Output => {
      output = createOutput({ verbose });
      return output;
    },
    // Asked only by the commands that may ask questions: reading it builds the stdin stream.
    get isInteractive(): boolean {
      return Boolean(process.stdin.isTTY);
    },
  };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    return report(error, output);
  }
}

function report(error: unknown, output: Output): number {
  if (error instanceof CommanderError) {
    // Help and version exit 0; commander has already printed its own message otherwise.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
    return ExitCode.usage;
  }
  if (error instanceof ExitError) return error.exitCode;
  if (error instanceof ConfigError) {
    for (const problem of error.problems) output.error(problem);
    for (const hint of error.hints) output.info(hint);
    return error.exitCode;
  }
  // A full disk or a read-only file is the machine's answer, not a bug: classified by its errno code.
  const known = error instanceof CrucibleError ? error : storageErrorFrom(error);
  if (known) {
    output.error(known.message);
    for (const hint of known.hints) output.info(hint);
    return known.exitCode;
  }
  // The command is bundled (scripts/build-cli.mjs): name the TypeScript files in the stack, not the
  // chunks. This module is itself a chunk, in dist/cli/chunks/: the bundle is the folder above.
  const stack = error instanceof Error ? mapStack(error.stack ?? error.message, path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')) : String(error);
  output.error(`internal error (a bug in crucible, please report it):\n${stack}`);
  return ExitCode.internal;
}

// No top-level await: the command is bundled as CommonJS (scripts/build-cli.mjs).
void main(process.argv.slice(2)).then((exitCode) => {
  // Exit naturally so stdout and stderr drain; the unref'd timer only fires if something still
  // holds the event loop open (it must not keep a finished command alive).
  process.exitCode = exitCode;
  setTimeout(() => process.exit(exitCode), 2000).unref();
});
