// compress.js: the code the agent improves. A hidden harness compresses texts with compress(),
// decompresses the result with decompress() in a separate fresh process, and scores
// original UTF-8 bytes / compressed bytes.
//
// Contract:
//   compress(text: string) → Uint8Array        any bytes you like
//   decompress(bytes: Uint8Array) → string     must return exactly the text that was compressed
// Both are synchronous, deterministic and self-contained: this file imports nothing, and the
// two calls share no state (they never run in the same process).
//
// The baseline is a byte-oriented LZ77 with an escape byte. With the settings below it degrades
// into run-length encoding (it only finds runs of a repeated byte) and makes the text LARGER
// (ratio below 1): it also escapes the most frequent byte, the space. The four
// constants with a tuning marker are what the offline tuner searches; a better algorithm is up to you.
//
// Format: a stream of tokens.
//   any byte other than ESCAPE          that byte, literally
//   ESCAPE, 0                           the byte ESCAPE itself
//   ESCAPE, L (1..255), HI, LO          copy MIN_MATCH + L - 1 bytes from HI*256+LO bytes back

const MIN_MATCH = 3; // @tune 1..16 int
const WINDOW = 1; // @tune 1..65535 int log
const MAX_CHAIN = 1; // @tune 1..4096 int log
const ESCAPE = 32; // @tune 0..255 int

const MAX_MATCH = MIN_MATCH + 254;
// Offsets are written in two bytes.
const MAX_DISTANCE = Math.min(WINDOW, 65535);
const HASH_BITS = 16;

export function compress(text) {
  const input = new TextEncoder().encode(text);
  const n = input.length;
  const out = new ByteWriter(n + 16);
  // Hash chains over 3-byte prefixes: head[h] is the latest position with hash h, prev[p] the
  // position before p with the same hash.
  const head = new Int32Array(1 << HASH_BITS).fill(-1);
  const prev = new Int32Array(n);

  let pos = 0;
  while (pos < n) {
    let bestLength = 0;
    let bestOffset = 0;
    // Distance 1 is always a candidate: that is the run-length part.
    if (pos >= 1 && MAX_DISTANCE >= 1) {
      bestLength = matchLength(input, pos - 1, pos, n);
      bestOffset = 1;
    }
    if (pos + 2 < n) {
      let candidate = head[hash3(input, pos)];
      for (let chain = 0; chain < MAX_CHAIN && candidate >= 0 && pos - candidate <= MAX_DISTANCE; chain++) {
        const length = matchLength(input, candidate, pos, n);
        if (length > bestLength) {
          bestLength = length;
          bestOffset = pos - candidate;
        }
        candidate = prev[candidate];
      }
    }

    let advance = 1;
    if (bestLength >= MIN_MATCH) {
      advance = bestLength;
      out.push(ESCAPE);
      out.push(bestLength - MIN_MATCH + 1);
      out.push(bestOffset >>> 8);
      out.push(bestOffset & 255);
    } else {
      const byte = input[pos];
      out.push(byte);
      if (byte === ESCAPE) out.push(0);
    }
    for (let end = pos + advance; pos < end; pos++) {
      if (pos + 2 < n) {
        const h = hash3(input, pos);
        prev[pos] = head[h];
        head[h] = pos;
      }
    }
  }
  return out.bytes();
}

export function decompress(bytes) {
  const out = new ByteWriter(bytes.length * 4 + 16);
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i++];
    if (byte !== ESCAPE) {
      out.push(byte);
      continue;
    }
    const code = bytes[i++];
    if (code === 0) {
      out.push(ESCAPE);
      continue;
    }
    const length = MIN_MATCH + code - 1;
    const offset = (bytes[i] << 8) | bytes[i + 1];
    i += 2;
    // Byte by byte on purpose: a copy may overlap the bytes it produces (offset < length).
    for (let k = 0; k < length; k++) out.push(out.at(out.length - offset));
  }
  return new TextDecoder().decode(out.bytes());
}

function matchLength(input, from, to, n) {
  let length = 0;
  while (length < MAX_MATCH && to + length < n && input[from + length] === input[to + length]) length++;
  return length;
}

function hash3(input, pos) {
  return (Math.imul((input[pos] << 16) | (input[pos + 1] << 8) | input[pos + 2], 0x9e3779b1) >>> (32 - HASH_BITS)) & ((1 << HASH_BITS) - 1);
}

/** A growable byte buffer. */
class ByteWriter {
  constructor(capacity) {
    this.buffer = new Uint8Array(Math.max(16, capacity));
    this.length = 0;
  }

  push(byte) {
    if (this.length === this.buffer.length) {
      const bigger = new Uint8Array(this.buffer.length * 2);
      bigger.set(this.buffer);
      this.buffer = bigger;
    }
    this.buffer[this.length++] = byte;
  }

  at(index) {
    return this.buffer[index];
  }

  bytes() {
    return this.buffer.slice(0, this.length);
  }
}
