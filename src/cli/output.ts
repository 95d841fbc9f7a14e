import pc from 'picocolors';

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
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const color = options.color ?? (pc.isColorSupported && Boolean(stderr.isTTY) && !('NO_COLOR' in process.env));
  const colors = pc.createColors(color);
  const style: Style = { bold: colors.bold, dim: colors.dim, green: colors.green, yellow: colors.yellow, red: colors.red, cyan: colors.cyan };
  const verbose = options.verbose ?? false;
  const columnsFromEnv = Number.parseInt(process.env['COLUMNS'] ?? '', 10);
  const columns = stdout.columns ?? (Number.isFinite(columnsFromEnv) && columnsFromEnv > 0 ? columnsFromEnv : 80);
  return {
    color,
    verbose,
    columns,
    style,
    data: (text) => void stdout.write(`${text}\n`),
    info: (text) => void stderr.write(`${text}\n`),
    debug: (text) => {
      if (verbose) stderr.write(`${style.dim(text)}\n`);
    },
    warn: (text) => void stderr.write(`${style.yellow('warning:')} ${text}\n`),
    error: (text) => void stderr.write(`${style.red('error:')} ${text}\n`),
  };
}
