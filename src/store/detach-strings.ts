/**
 * The same strings, made anew: none of them keeps alive the larger text it was cut from. In V8 a
 * string cut from another (slice, split, substring) is a view that keeps its whole parent in
 * memory: lines cut from a ledger read at open held all 25 MB of it for a whole session
 * (decisions 60). `separator` must occur in none of the strings.
 */
export function detachStrings(strings: readonly string[], separator = '\n'): string[] {
  if (strings.length === 0) return [];
  // The joined text ends in the separator so that it is always a new string, even for one part;
  // the parts are views of it, which is no larger than they are together.
  const parts = `${strings.join(separator)}${separator}`.split(separator);
  parts.pop();
  return parts;
}
