/**
 * The read commands' few config keys, read from the plain layout every crucible config has
 * (`name: x`, `metric:` with `name:` and `direction:` under it), without loading the YAML parser:
 * about 18 ms of a `status` whose floor is Node's own start (issue 12). It only ever answers for
 * a file it reads exactly as YAML would; at the first thing it is not sure of (a quote, a flow
 * collection, an anchor, a block scalar, a tab, a value YAML would read as a number, a boolean
 * or null, a second document, a duplicate key) it answers null and the caller parses the file.
 * test/unit/scan-essentials.test.ts holds it against the YAML parser.
 */

export interface ScannedEssentials {
  name?: string;
  description?: string;
  metric?: { name?: string; direction?: string };
  git?: { branch_prefix?: string };
}

const WANTED: Record<string, readonly string[] | null> = { name: null, description: null, metric: ['name', 'direction'], git: ['branch_prefix'] };
const TOP_KEY = /^([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*))?$/;
const NESTED_KEY = /^( +)([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*))?$/;

export function scanEssentials(text: string): ScannedEssentials | null {
  if (text.includes('\t') || text.startsWith('\uFEFF')) return null;
  const doc: Record<string, unknown> = {};
  let block: { key: string; fields: Record<string, string>; indent: number | null } | null = null;
  // A plain scalar goes on over more-indented lines ("name: a" then "  b" is "a b").
  let afterScalar = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (line === '' || /^ *#/.test(line)) continue;
    if (!line.startsWith(' ')) {
      block = null;
      afterScalar = false;
      if (/^(---|\.\.\.|%)/.test(line)) return null;
      const top = TOP_KEY.exec(line);
      if (top === null) return null;
      const [, key, rest] = top as unknown as [string, string, string | undefined];
      const value = rest === undefined ? '' : stripComment(rest);
      if (key in doc) return null;
      if (!(key in WANTED)) {
        // Another key's value may span lines only when indented (then skipped as nested), except a
        // quoted or flow value, whose continuation lines YAML allows anywhere.
        if (value === null || /^["']/.test(value) || (/^[[{]/.test(value) && !closedOnItsLine(value))) return null;
        doc[key] = true;
        continue;
      }
      if (value === null) return null;
      if (WANTED[key] === null) {
        const scalar = plainString(value);
        if (scalar === null) return null;
        doc[key] = scalar;
        afterScalar = true;
      } else {
        if (value !== '') return null; // a flow mapping or a scalar where a mapping was expected
        block = { key, fields: {}, indent: null };
        doc[key] = block.fields;
      }
      continue;
    }
    if (afterScalar) return null;
    if (block === null) continue; // inside another key's value
    const nested = NESTED_KEY.exec(line);
    if (nested === null) return null;
    const [, spaces, key, rest] = nested as unknown as [string, string, string, string | undefined];
    block.indent ??= spaces.length;
    if (spaces.length !== block.indent || key in block.fields) return null;
    const value = rest === undefined ? '' : stripComment(rest);
    if (value === null) return null;
    if (!WANTED[block.key]!.includes(key)) {
      if (value === '' || /^["'[{|>&*!]/.test(value)) return null; // a nested structure: not sure of its extent
      block.fields[key] = '';
      continue;
    }
    const scalar = plainString(value);
    if (scalar === null) return null;
    block.fields[key] = scalar;
  }
  const result: ScannedEssentials = {};
  if (typeof doc['name'] === 'string') result.name = doc['name'];
  if (typeof doc['description'] === 'string') result.description = doc['description'];
  const metric = doc['metric'] as Record<string, string> | undefined;
  if (metric !== undefined) result.metric = pickFields(metric, ['name', 'direction']);
  const git = doc['git'] as Record<string, string> | undefined;
  if (git !== undefined) result.git = pickFields(git, ['branch_prefix']);
  return result;
}

/** The value without a trailing comment; null when a `#` could be part of it. */
function stripComment(value: string): string | null {
  const at = value.search(/ #/);
  const kept = (at === -1 ? value : value.slice(0, at)).trimEnd();
  return kept.includes('#') ? null : kept;
}

/**
 * A plain scalar that YAML reads as exactly this string; null for anything else: empty (null),
 * an indicator first, `: ` inside (a mapping), or what the core schema reads as a number,
 * a boolean or null.
 */
function plainString(value: string): string | null {
  if (value === '' || /^[-?:,[\]{}#&*!|>'"%@`]/.test(value) || value.includes(': ') || value.endsWith(':')) return null;
  if (/^[-+.]?\d/.test(value) || /^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$/.test(value)) return null;
  if (/^(~|null|Null|NULL|true|True|TRUE|false|False|FALSE)$/.test(value)) return null;
  return value;
}

/** A flow collection that ends on its line: brackets balanced, no quote (which could hide one). */
function closedOnItsLine(value: string): boolean {
  if (/["']/.test(value)) return false;
  let depth = 0;
  for (const c of value) {
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    if (depth < 0) return false;
  }
  return depth === 0 && /[}\]]$/.test(value);
}

function pickFields(fields: Record<string, string>, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) if (fields[name] !== undefined && fields[name] !== '') picked[name] = fields[name]!;
  return picked;
}
