/**
 * Terminal column arithmetic for report tables. Descriptions come from agents and may be written
 * in any language (crucible's users include CJK locales), so widths are counted in terminal
 * columns, not UTF-16 units: wide characters take two columns and surrogate pairs are never split.
 */

// East Asian Wide/Fullwidth blocks and the common emoji planes: enough for tables to line up
// without shipping the full Unicode width table.
const wideRanges: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f680, 0x1f6ff],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

function widthOfCodePoint(codePoint: number): number {
  // Combining marks and zero-width joiners/spaces take no column of their own.
  if ((codePoint >= 0x300 && codePoint <= 0x36f) || (codePoint >= 0x200b && codePoint <= 0x200f)) return 0;
  return wideRanges.some(([low, high]) => codePoint >= low && codePoint <= high) ? 2 : 1;
}

/** Columns `text` occupies in a terminal. */
export function measureWidth(text: string): number {
  let width = 0;
  for (const char of text) width += widthOfCodePoint(char.codePointAt(0) ?? 0);
  return width;
}

/** `text` cut to at most `maxWidth` columns, ending in "…" when something was cut. */
export function truncateToWidth(text: string, maxWidth: number): string {
  if (measureWidth(text) <= maxWidth) return text;
  if (maxWidth <= 0) return '';
  let result = '';
  let width = 0;
  for (const char of text) {
    const charWidth = widthOfCodePoint(char.codePointAt(0) ?? 0);
    // Leave one column for the ellipsis.
    if (width + charWidth > maxWidth - 1) break;
    result += char;
    width += charWidth;
  }
  return `${result}…`;
}

/** `text` followed by spaces up to `width` columns (never cut). */
export function padEndToWidth(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - measureWidth(text)));
}

/** Spaces followed by `text` up to `width` columns (never cut). */
export function padStartToWidth(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - measureWidth(text))) + text;
}
