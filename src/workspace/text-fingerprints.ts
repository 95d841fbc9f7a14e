/**
 * Recognises text taken from a body of hidden text, in bounded memory: only 52-bit hashes are kept,
 * never the text. Two kinds of evidence:
 *
 * - a whole line of the hidden text (whitespace ignored, at least MIN_LINE_CHARS characters and
 *   MIN_LINE_DISTINCT different ones) that a line of output equals, ends with or starts with:
 *   a traceback's indented source line, `cat -n`, a log prefix, a `+` of a diff;
 * - a run of KGRAM characters of the hidden text anywhere in a line (a file printed joined on one
 *   line, a quoted fragment). The hidden side keeps one k-gram per window of WINDOW (winnowing, as
 *   in MOSS), so any shared run of KGRAM + WINDOW - 1 characters is found for sure, shorter ones
 *   often. K-grams of few different characters (`=====`, `00000`) are ignored on both sides.
 *
 * Hashes are polynomial modulo 2^32 (two bases), computed with integer multiplication: fast, and a
 * collision can only hide an innocent line, never let hidden text through.
 */

// Both powers of two: positions wrap with a mask.
export const KGRAM = 32;
export const WINDOW = 16;
export const MIN_LINE_CHARS = 8;
export const MIN_LINE_DISTINCT = 4;
const MIN_KGRAM_DISTINCT = 8;

const B1 = 0x01000193;
const B2 = 0x5bd1e995;
const POW1 = powerOf(B1, KGRAM);
const POW2 = powerOf(B2, KGRAM);
const LOW_BITS = 2 ** 20;

function powerOf(base: number, exponent: number): number {
  let result = 1;
  for (let i = 0; i < exponent; i++) result = Math.imul(result, base);
  return result;
}

/** 32 bits of one hash and 20 of the other: an exact integer in a double. */
function keyOf(h1: number, h2: number): number {
  return (h1 >>> 0) * LOW_BITS + (h2 >>> 12);
}

function slotOf(key: number, mask: number): number {
  const high = (key / LOW_BITS) >>> 0;
  return (Math.imul(high, 0x9e3779b1) ^ (key - high * LOW_BITS)) & mask;
}

/** A set of keys in one typed array (open addressing, at most half full): 16 bytes per entry at most. */
export class HashSet {
  private table = new Float64Array(1024);
  private count = 0;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.count;
  }

  /** False when the set is full (the key is not added). */
  add(key: number): boolean {
    if ((this.count + 1) * 2 > this.table.length && this.count < this.maxEntries) this.grow();
    const table = this.table;
    const mask = table.length - 1;
    const stored = key + 1;
    let slot = slotOf(key, mask);
    for (let value = table[slot]!; value !== 0; value = table[slot]!) {
      if (value === stored) return true;
      slot = (slot + 1) & mask;
    }
    if (this.count >= this.maxEntries) return false;
    table[slot] = stored;
    this.count++;
    return true;
  }

  has(key: number): boolean {
    const table = this.table;
    const mask = table.length - 1;
    const stored = key + 1;
    for (let slot = slotOf(key, mask); ; slot = (slot + 1) & mask) {
      const value = table[slot]!;
      if (value === 0) return false;
      if (value === stored) return true;
    }
  }

  private grow(): void {
    const old = this.table;
    const table = new Float64Array(old.length * 2);
    const mask = table.length - 1;
    for (let i = 0; i < old.length; i++) {
      const value = old[i]!;
      if (value === 0) continue;
      let slot = slotOf(value - 1, mask);
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = value;
    }
    this.table = table;
  }
}

/** Whitespace and control characters: ignored when comparing. */
function isIgnored(c: number): boolean {
  return c <= 32 || c === 127 || c === 160 || c === 0x2028 || c === 0x2029 || c === 0xfeff;
}

/** The rolling hashes of the last KGRAM characters pushed, and how many different ones they hold. */
class KgramRoller {
  private readonly ring = new Uint16Array(KGRAM);
  private readonly counts = new Uint8Array(256);
  private distinct = 0;
  private filled = 0;
  h1 = 0;
  h2 = 0;

  /** Adds one character; true when the last KGRAM characters form a k-gram worth comparing. */
  push(c: number): boolean {
    const at = this.filled & (KGRAM - 1);
    const out = this.ring[at]!;
    if (this.filled >= KGRAM && --this.counts[out & 255]! === 0) this.distinct--;
    const leaving = this.filled >= KGRAM ? out : 0;
    this.ring[at] = c;
    if (this.counts[c & 255]!++ === 0) this.distinct++;
    this.h1 = (Math.imul(this.h1, B1) + c - Math.imul(leaving, POW1)) | 0;
    this.h2 = (Math.imul(this.h2, B2) + c - Math.imul(leaving, POW2)) | 0;
    this.filled++;
    return this.filled >= KGRAM && this.distinct >= MIN_KGRAM_DISTINCT;
  }
}

/** The hashes of hidden text: add texts (at most `maxEntries` hashes of each kind), then ask about lines of output. */
export class HiddenTextIndex {
  private readonly lines: HashSet;
  private readonly grams: HashSet;
  /** True once a hash did not fit. */
  full = false;

  constructor(maxEntries: number) {
    this.lines = new HashSet(maxEntries);
    this.grams = new HashSet(maxEntries);
  }

  get entries(): { lines: number; kgrams: number } {
    return { lines: this.lines.size, kgrams: this.grams.size };
  }

  /** Indexes one hidden text (a file): its lines, and its k-grams, which run on across line ends. */
  addText(text: string): void {
    const roller = new KgramRoller();
    // Winnowing: the window's smallest key (the rightmost of equals) is picked, once.
    const windowKeys = new Float64Array(WINDOW).fill(Infinity);
    const mask = WINDOW - 1;
    let minAt = -1;
    let picked = -1;
    let position = 0;
    // The current line: its hash, length and first different characters. Plain locals, no
    // closure over them: this loop runs once per character of up to megabytes of text.
    let h1 = 0;
    let h2 = 0;
    let length = 0;
    const seen = new Uint16Array(MIN_LINE_DISTINCT);
    let distinct = 0;
    for (let i = 0; i <= text.length; i++) {
      const c = i < text.length ? text.charCodeAt(i) : 10;
      if (c === 10) {
        if (length >= MIN_LINE_CHARS && distinct >= MIN_LINE_DISTINCT && !this.lines.add(keyOf(h1, h2))) this.full = true;
        h1 = h2 = length = distinct = 0;
        continue;
      }
      if (isIgnored(c)) continue;
      h1 = (Math.imul(h1, B1) + c) | 0;
      h2 = (Math.imul(h2, B2) + c) | 0;
      length++;
      if (distinct < MIN_LINE_DISTINCT) {
        let known = false;
        for (let d = 0; d < distinct; d++) known ||= seen[d] === c;
        if (!known) seen[distinct++] = c;
      }

      const worth = roller.push(c);
      const slot = position & mask;
      const key = worth ? keyOf(roller.h1, roller.h2) : Infinity;
      windowKeys[slot] = key;
      if (minAt === -1 || position - minAt >= WINDOW) {
        // The minimum left the window: look at the whole window again.
        minAt = -1;
        for (let p = Math.max(0, position - WINDOW + 1); p <= position; p++) {
          if (minAt === -1 || windowKeys[p & mask]! <= windowKeys[minAt & mask]!) minAt = p;
        }
      } else if (key <= windowKeys[minAt & mask]!) {
        minAt = position;
      }
      if (position >= KGRAM + WINDOW - 2 && minAt !== picked && windowKeys[minAt & mask]! !== Infinity) {
        picked = minAt;
        if (!this.grams.add(windowKeys[minAt & mask]!)) this.full = true;
      }
      position++;
    }
    // A text shorter than one window still leaves its smallest k-gram.
    if (position < KGRAM + WINDOW - 1 && minAt !== -1 && windowKeys[minAt & mask]! !== Infinity && !this.grams.add(windowKeys[minAt & mask]!)) this.full = true;
  }

  /** Whether a line of output shows hidden text: a whole hidden line (alone, after or before other text) or a hidden k-gram. */
  matches(rawLine: string): boolean {
    const codes: number[] = [];
    for (let i = 0; i < rawLine.length; i++) {
      const c = rawLine.charCodeAt(i);
      if (!isIgnored(c)) codes.push(c);
    }
    return codes.length >= MIN_LINE_CHARS && (this.matchesEnds(codes) || this.matchesKgram(codes));
  }

  /** A hidden line equal to a suffix or a prefix of the line: O(n) hashes, each built from the last. */
  private matchesEnds(codes: readonly number[]): boolean {
    const n = codes.length;
    const seen: number[] = [];
    let s1 = 0;
    let s2 = 0;
    let p1 = 1;
    let p2 = 1;
    for (let i = n - 1; i >= 0; i--) {
      const c = codes[i]!;
      s1 = (s1 + Math.imul(c, p1)) | 0;
      s2 = (s2 + Math.imul(c, p2)) | 0;
      p1 = Math.imul(p1, B1);
      p2 = Math.imul(p2, B2);
      if (seen.length < MIN_LINE_DISTINCT && !seen.includes(c)) seen.push(c);
      if (n - i >= MIN_LINE_CHARS && seen.length >= MIN_LINE_DISTINCT && this.lines.has(keyOf(s1, s2))) return true;
    }
    seen.length = 0;
    let f1 = 0;
    let f2 = 0;
    for (let i = 0; i < n; i++) {
      const c = codes[i]!;
      f1 = (Math.imul(f1, B1) + c) | 0;
      f2 = (Math.imul(f2, B2) + c) | 0;
      if (seen.length < MIN_LINE_DISTINCT && !seen.includes(c)) seen.push(c);
      if (i + 1 >= MIN_LINE_CHARS && seen.length >= MIN_LINE_DISTINCT && this.lines.has(keyOf(f1, f2))) return true;
    }
    return false;
  }

  private matchesKgram(codes: readonly number[]): boolean {
    if (codes.length < KGRAM) return false;
    const roller = new KgramRoller();
    for (const c of codes) {
      if (roller.push(c) && this.grams.has(keyOf(roller.h1, roller.h2))) return true;
    }
    return false;
  }
}
