import type { Output } from './output.js';
import { fitWidth } from './fit-width.js';

/**
 * A few lines kept at the bottom of a terminal and redrawn in place, with ordinary lines printed
 * above them. Each line is cut to the terminal's width: a line that wrapped would leave the
 * cursor arithmetic one row short and smear the block down the screen.
 */
export interface LiveBlock {
  /** Replaces the block's lines. */
  set(lines: readonly string[]): void;
  /** Wraps `out` so that its lines go above the block. */
  around(out: Output): Output;
  /** Removes the block from the screen (at the end of the run). */
  clear(): void;
}

export function createLiveBlock(stream: NodeJS.WritableStream, columns: () => number): LiveBlock {
  let shown = 0;
  let lines: readonly string[] = [];
  const erase = (): string => (shown === 0 ? '' : `\u001b[${shown}A\r\u001b[J`);
  const draw = (): string => {
    const width = Math.max(20, columns() - 1);
    shown = lines.length;
    return lines.map((line) => `${fitWidth(line, width)}\n`).join('');
  };
  const above = (write: (text: string) => void) => (text: string): void => {
    const clearing = erase();
    shown = 0;
    stream.write(clearing);
    write(text);
    stream.write(draw());
  };
  return {
    set(next) {
      const clearing = erase();
      lines = next;
      stream.write(clearing + draw());
    },
    around(out) {
      return {
        ...out,
        data: above((text) => out.data(text)),
        info: above((text) => out.info(text)),
        // Debug lines print nothing without -v: no need to redraw for them.
        debug: out.verbose ? above((text) => out.debug(text)) : (): void => undefined,
        warn: above((text) => out.warn(text)),
        error: above((text) => out.error(text)),
      };
    },
    clear() {
      stream.write(erase());
      shown = 0;
      lines = [];
    },
  };
}
