import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { scanEssentials } from '../../src/config/scan-essentials.js';

/**
 * The scan answers for a config only when it reads exactly what YAML reads: held here against the
 * YAML parser on every bundled example and on files written to trip it.
 */

/** What YAML says of the keys the scan reads (strings only: anything else the scan must refuse). */
function fromYaml(text: string): unknown {
  const doc = parse(text) as Record<string, unknown>;
  const strings = (o: unknown, keys: string[]) =>
    Object.fromEntries(keys.flatMap((k) => ((o as Record<string, unknown> | null)?.[k] !== undefined ? [[k, (o as Record<string, unknown>)[k]]] : [])));
  const out: Record<string, unknown> = strings(doc, ['name', 'description']);
  if (doc['metric'] !== undefined) out['metric'] = strings(doc['metric'], ['name', 'direction']);
  if (doc['git'] !== undefined) out['git'] = strings(doc['git'], ['branch_prefix']);
  return out;
}

const examples = path.resolve(__dirname, '../../examples');

describe('scanEssentials', () => {
  it.each(readdirSync(examples).filter((e) => e.startsWith('optimize-')))('reads %s exactly as YAML does', (example) => {
    const text = readFileSync(path.join(examples, example, '.crucible', 'config.yaml'), 'utf8');
    const scanned = scanEssentials(text);
    expect(scanned).not.toBeNull();
    expect(scanned).toEqual(fromYaml(text));
  });

  const base = 'name: demo\nmetric:\n  name: score\n  direction: maximize\ncommands:\n  run: |\n    python train.py\n    name: not this\n  eval: grep score run.log\n';
  it.each([
    ['the plain layout with comments, CRLF and a git prefix', 'name: demo # the name\r\ndescription: A demo, with commas\r\nmetric:\r\n  # why\r\n  name: score\r\n  direction: minimize\r\ngit:\r\n    branch_prefix: exp/runs\r\n'],
    ['a block scalar elsewhere holding a "name:" line', base],
    ['a flow mapping of another key on one line', 'name: d\nparallel: { agents: 1, workers: [1, 2] }\nmetric:\n  name: s\n  direction: maximize\n'],
    ['other keys in the metric block', 'name: d\nmetric:\n  name: s\n  min_improvement: 1%\n  direction: maximize\n'],
  ])('reads %s exactly as YAML does', (_, text) => {
    const scanned = scanEssentials(text);
    expect(scanned).not.toBeNull();
    expect(scanned).toEqual(fromYaml(text));
  });

  it.each([
    ['a quoted name', 'name: "demo"\n'],
    ['a name YAML reads as a number', 'name: 123\n'],
    ['a name YAML reads as a boolean', 'name: true\n'],
    ['a name YAML reads as null', 'name: ~\n'],
    ['an empty name', 'name:\n'],
    ['a plain scalar that goes on over the next line', 'name: demo\n  continued\nmetric:\n  name: s\n  direction: maximize\n'],
    ['a folded description', 'name: d\ndescription: >\n  long text\n'],
    ['a flow mapping', 'name: d\nmetric: {name: s, direction: maximize}\n'],
    ['an anchor', 'name: &n demo\n'],
    ['an alias in the metric', 'name: d\nmetric:\n  name: *n\n'],
    ['a second document', 'name: d\n---\nname: e\n'],
    ['a duplicate key', 'name: d\nname: e\n'],
    ['a tab', 'name: d\nmetric:\n\tname: s\n'],
    ['a multi-line quoted value of another key', 'name: d\nnote: "a\nname: e"\n'],
    ['a flow mapping of another key that goes on over lines', 'name: d\nparallel: { agents: 1,\nname: e }\n'],
    ['a key with a space before the colon', 'name : d\n'],
    ['a mapping inside a plain value', 'name: a: b\n'],
    ['a hash without a space', 'name: a#b\n'],
    ['a deeper line in the metric block', 'name: d\nmetric:\n  name: s\n    direction: maximize\n'],
    ['a directive', '%YAML 1.2\n---\nname: d\n'],
  ])('refuses %s (the YAML parser decides)', (_, text) => {
    expect(scanEssentials(text)).toBeNull();
  });
});
