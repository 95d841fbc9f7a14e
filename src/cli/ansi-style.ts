import type { Style } from './output.js';

/**
 * The few ANSI styles the CLI uses. A style closed inside a styled text reopens after the inner
 * close (bold within dim stays dim after it), as picocolors does; without colour, the text as is.
 * Ours, because picocolors decides on colour when it loads, by reading `process.stdout.isTTY`:
 * that makes Node build the stdout stream (net, streams: 4 to 7 ms) in every command, even one
 * that never prints in colour.
 */
export function ansiStyle(enabled: boolean): Style {
  const style = enabled ? formatter : (): ((text: string) => string) => String;
  return {
    bold: style('\x1b[1m', '\x1b[22m', '\x1b[22m\x1b[1m'),
    dim: style('\x1b[2m', '\x1b[22m', '\x1b[22m\x1b[2m'),
    red: style('\x1b[31m', '\x1b[39m'),
    green: style('\x1b[32m', '\x1b[39m'),
    yellow: style('\x1b[33m', '\x1b[39m'),
    cyan: style('\x1b[36m', '\x1b[39m'),
  };
}

/** `replace` stands for each inner `close`, from the length of `open` on (picocolors' rule). */
function formatter(open: string, close: string, replace: string = open): (text: string) => string {
  return (input) => {
    const text = String(input);
    let index = text.indexOf(close, open.length);
    if (index === -1) return `${open}${text}${close}`;
    let result = '';
    let cursor = 0;
    do {
      result += text.substring(cursor, index) + replace;
      cursor = index + close.length;
      index = text.indexOf(close, cursor);
    } while (index !== -1);
    return `${open}${result}${text.substring(cursor)}${close}`;
  };
}
