import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, type Document } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { checkConfigRules, resolveFileOverlaps } from './rules.js';
import { closestWord } from './closest-word.js';

export const CONFIG_DIR = '.crucible';
export const CONFIG_FILE = 'config.yaml';

export function configPath(projectDir: string): string {
  return path.join(projectDir, CONFIG_DIR, CONFIG_FILE);
}

export type ConfigLoadResult =
  | { ok: true; config: Config; warnings: string[]; file: string }
  | { ok: false; errors: string[]; warnings: string[]; file: string };

/**
 * Reads and checks `.crucible/config.yaml`. Never throws for bad input and never prints: every
 * problem is one line naming the file, the line and the key.
 */
export function loadConfig(projectDir: string): ConfigLoadResult {
  const file = configPath(projectDir);
  const shown = displayPath(file);
  if (!existsSync(file)) {
    return {
      ok: false,
      file,
      warnings: [],
      errors: [`${shown}: config file not found (create it with \`crucible new\`, or run from the project folder)`],
    };
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, file, warnings: [], errors: [`${shown}: cannot read: ${(error as Error).message}`] };
  }
  return parseConfigText(text, shown, file);
}

/** The checks of `loadConfig` on text already in memory; `shown` is the file name used in messages. */
export function parseConfigText(text: string, shown: string, file = shown): ConfigLoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const pos = lineCounter.linePos(first.pos[0]);
    const reason = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    return { ok: false, file, warnings: [], errors: [`${shown}:${pos.line}:${pos.col}: YAML syntax error: ${reason}`] };
  }
  const raw: unknown = doc.toJS();
  if (!isMap(doc.contents) || raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      ok: false,
      file,
      warnings: [],
      errors: [`${shown}: must be a YAML mapping of keys (name:, files:, commands:, metric:, ...), found ${describeValue(raw)}`],
    };
  }

  const where = (keyPath: readonly PropertyKey[]): string => `${shown}:${lineOf(doc, lineCounter, keyPath)}`;
  const warnings: string[] = [];
  let candidate = structuredClone(raw) as Record<string, unknown>;
  renameAliases(candidate, (from, to) => warnings.push(`${where(['evaluation', from])}: "evaluation.${from}" is read as "evaluation.${to}" (the reference tool's name); rename it`));
  let result = configSchema.safeParse(candidate, { reportInput: true });
  if (!result.success) {
    // Unknown keys are warnings, not errors: drop them, say what was meant, and check again.
    const unknown = result.error.issues.filter((issue) => issue.code === 'unrecognized_keys');
    if (unknown.length > 0) {
      for (const issue of unknown) {
        for (const key of issue.keys) {
          const keyPath = [...issue.path, key];
          const suggestion = closestWord(key, knownKeysAt(issue.path));
          warnings.push(
            `${where(keyPath)}: unknown key "${keyPath.join('.')}" is ignored${suggestion ? ` (did you mean "${[...issue.path, suggestion].join('.')}"?)` : ''}`,
          );
        }
      }
      candidate = withoutKeys(candidate, unknown.map((issue) => ({ path: issue.path, keys: issue.keys })));
      result = configSchema.safeParse(candidate, { reportInput: true });
    }
  }
  if (!result.success) {
    const errors = result.error.issues.map((issue) => `${where(issue.path)}: ${describeIssue(issue)}`);
    return { ok: false, file, warnings, errors: unique(errors) };
  }
  const ruleProblems = checkConfigRules(result.data);
  const ruleErrors = ruleProblems.filter((p) => p.severity === 'error').map((p) => `${where(p.path)}: ${p.path.join('.')}: ${p.message}`);
  warnings.push(...ruleProblems.filter((p) => p.severity === 'warning').map((p) => `${where(p.path)}: ${p.path.join('.')}: ${p.message}`));
  if (ruleErrors.length > 0) return { ok: false, file, warnings, errors: ruleErrors };
  return { ok: true, config: resolveFileOverlaps(result.data), warnings, file };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  const input = (issue as { input?: unknown }).input;
  if (input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value')) return `${key}: required key is missing`;
  switch (issue.code) {
    case 'invalid_type':
      return `${key}: must be ${article(issue.expected)}, got ${describeValue(input)}`;
    case 'invalid_value':
      return `${key}: must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${describeValue(input)}`;
    case 'too_small':
    case 'too_big':
      // Lists and strings: the message says it all ("must list at least one file").
      if (typeof input !== 'number') return `${key}: ${lowerFirst(issue.message)}`;
      return `${key}: ${lowerFirst(issue.message)}, got ${describeValue(input)}`;
    default:
      return `${key}: ${lowerFirst(issue.message)}${input === undefined ? '' : `, got ${describeValue(input)}`}`;
  }
}

function article(expected: string): string {
  if (expected === 'int') return 'a whole number';
  if (expected === 'array') return 'a list';
  if (expected === 'object') return 'a mapping of keys';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'nothing (null)';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return JSON.stringify(value);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function unique(lines: string[]): string[] {
  return [...new Set(lines)];
}

function lineOf(doc: Document, counter: LineCounter, keyPath: readonly PropertyKey[]): number {
  // The deepest node on the path that exists: the key itself, else its nearest parent.
  for (let depth = keyPath.length; depth > 0; depth--) {
    const parentPath = keyPath.slice(0, depth - 1);
    const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath as unknown[], true);
    if (isMap(parent)) {
      const pair = parent.items.find((item) => (item.key as { value?: unknown } | null)?.value === keyPath[depth - 1]);
      const node = pair?.key as { range?: [number, number, number] } | undefined;
      if (node?.range) return counter.linePos(node.range[0]).line;
    }
    const node = doc.getIn(keyPath.slice(0, depth) as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return counter.linePos(node.range[0]).line;
  }
  return 1;
}

/** The keys the schema knows at a path of nested objects (for "did you mean"). */
function knownKeysAt(keyPath: readonly PropertyKey[]): string[] {
  let schema: unknown = configSchema;
  for (const key of [...keyPath, null]) {
    schema = unwrap(schema);
    const shape = (schema as { shape?: Record<string, unknown> }).shape;
    if (!shape) return [];
    if (key === null) return Object.keys(shape);
    schema = shape[String(key)];
  }
  return [];
}

function unwrap(schema: unknown): unknown {
  let current = schema as { def?: { innerType?: unknown } };
  while (current?.def?.innerType) current = current.def.innerType;
  return current;
}

function withoutKeys(
  value: Record<string, unknown>,
  drops: ReadonlyArray<{ path: readonly PropertyKey[]; keys: readonly string[] }>,
): Record<string, unknown> {
  for (const drop of drops) {
    let target: unknown = value;
    for (const key of drop.path) target = (target as Record<PropertyKey, unknown> | undefined)?.[key];
    if (target && typeof target === 'object') {
      for (const key of drop.keys) delete (target as Record<string, unknown>)[key];
    }
  }
  return value;
}

/** A path as a user would type it from where they are. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

// The reference tool's spellings of two evaluation keys, read as ours (ours wins when both are given).
const EVALUATION_ALIASES: ReadonlyArray<[string, string]> = [
  ['repeat', 'repeats'],
  ['aggregation', 'aggregate'],
];

function renameAliases(config: Record<string, unknown>, note: (from: string, to: string) => void): void {
  const evaluation = config['evaluation'];
  if (typeof evaluation !== 'object' || evaluation === null || Array.isArray(evaluation)) return;
  const section = evaluation as Record<string, unknown>;
  for (const [from, to] of EVALUATION_ALIASES) {
    if (!(from in section)) continue;
    if (!(to in section)) section[to] = section[from];
    delete section[from];
    note(from, to);
  }
}
