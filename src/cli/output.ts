import { writeSync } from 'node:fs';
import { ansiStyle } from './ansi-style.js';

/**
 * Where the CLI speaks. Data (tables, JSON) goes to stdout; people-facing progress, warnings and
 * errors to stderr, so `crucible status --json | jq` always gets clean JSON.
 */
export interface Output {
  /** A line of data on stdout. */
  data(text: string): void;
  /** A line of progress for people, on stderr. */
  info(text: string): void;
  /** Shown only with -v. */
  debug(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  readonly color: boolean;
  readonly verbose: boolean;
  readonly columns: number;
  readonly style: Style;
}

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
}

export interface OutputOptions {
  stdout?: NodeJS.WritableStream & { columns?: number; isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  verbose?: boolean;
  color?: boolean;
}

export function createOutput(options: OutputOptions = {}): Output {
  const stdout = (): NodeJS.WritableStream & { columns?: number; isTTY?: boolean } => options.stdout ?? process.stdout;
  const stderr = (): NodeJS.WritableStream & { isTTY?: boolean } => options.stderr ?? process.stderr;
  // Data goes to the process's stdout through its descriptor: Node builds the stdout stream (net,
  // the stream modules: 4 to 7 ms of a read command's start) only if something needs it. stderr,
  // which a run's reporters also write to, stays one stream, in order; it is built when first used.
  const writeOut = options.stdout ? (text: string) => void options.stdout!.write(text) : descriptorWriter(1, stdout);
  const writeErr = (text: string): void => void stderr().write(text);
  const verbose = options.verbose ?? false;
  let color: boolean | undefined = options.color;
  let style: Style | undefined;
  const colorOn = (): boolean => (color ??= colorSupported(stdout().isTTY === true, stderr().isTTY === true));
  const styleOf = (): Style => (style ??= ansiStyle(colorOn()));
  return {
    get color(): boolean {
      return colorOn();
    },
    verbose,
    get columns(): number {
      const columnsFromEnv = Number.parseInt(process.env['COLUMNS'] ?? '', 10);
      return stdout().columns ?? (Number.isFinite(columnsFromEnv) && columnsFromEnv > 0 ? columnsFromEnv : 80);
    },
    get style(): Style {
      return styleOf();
    },
    data: (text) => writeOut(`${text}\n`),
    info: (text) => writeErr(`${text}\n`),
    debug: (text) => {
      if (verbose) writeErr(`${styleOf().dim(text)}\n`);
    },
    warn: (text) => writeErr(`${styleOf().yellow('warning:')} ${text}\n`),
    error: (text) => writeErr(`${styleOf().red('error:')} ${text}\n`),
  };
}

/**
 * Colour where people read: stderr is a terminal, and stdout is one too unless asked for
 * (FORCE_COLOR, --color, CI); never with NO_COLOR or --no-color, nor on a dumb terminal's stdout.
 * The rules picocolors applied, plus the stderr check this CLI always made.
 */
function colorSupported(stdoutIsTTY: boolean, stderrIsTTY: boolean): boolean {
  const { env, argv, platform } = process;
  if ('NO_COLOR' in env || argv.includes('--no-color')) return false;
  const asked = Boolean(env['FORCE_COLOR']) || argv.includes('--color') || platform === 'win32' || (stdoutIsTTY && env['TERM'] !== 'dumb') || Boolean(env['CI']);
  return asked && stderrIsTTY;
}

/**
 * Writes to descriptor `fd` directly, whole, in order. Where it cannot (the descriptor is
 * non-blocking, as Node leaves a pipe once its stream exists, and full: EAGAIN; any other
 * failure), the rest and every later write go through the stream, which waits and reports as
 * Node does: nothing is written out of order, since until then nothing went through the stream.
 * A reader that went away (EPIPE: `crucible history | head`) ends the output quietly, as other
 * command-line tools do.
 */
export function descriptorWriter(fd: number, stream: () => NodeJS.WritableStream): (text: string) => void {
  let viaStream = false;
  let closed = false;
  return (text) => {
    if (closed) return;
    if (viaStream) {
      stream().write(text);
      return;
    }
    const bytes = Buffer.from(text, 'utf8');
    let at = 0;
    try {
      while (at < bytes.length) at += writeSync(fd, bytes, at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EPIPE') {
        closed = true;
        return;
      }
      viaStream = true;
      stream().write(bytes.subarray(at));
    }
  };
}
