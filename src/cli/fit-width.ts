// eslint-disable-next-line no-control-regex -- colour codes are what is skipped
const ANSI = /\u001b\[[0-9;]*m/g;

/** `line` cut to `width` visible characters (colour codes kept, not counted), with "…" when cut. */
export function fitWidth(line: string, width: number): string {
  if (line.replace(ANSI, '').length <= width) return line;
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; ) {
    ANSI.lastIndex = i;
    const code = ANSI.exec(line);
    if (code !== null && code.index === i) {
      out += code[0];
      i += code[0].length;
      continue;
    }
    if (visible === width - 1) break;
    out += line[i];
    visible++;
    i++;
  }
  return `${out}…${line.includes('\u001b[') ? '\u001b[0m' : ''}`;
}
