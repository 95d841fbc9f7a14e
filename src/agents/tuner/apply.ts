/**
 * Writes a proposal into the files: each changed literal replaced in place, nothing else touched.
 * Returns the files whose content changed (a file whose literals were rewritten as they were is
 * left alone and not listed).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { overwriteInPlace } from '../../workspace/overwrite-file.js';
import type { TunedParam, TuningChange } from './types.js';
import { replaceLiteral } from './literal.js';

export function applyChanges(root: string, params: readonly TunedParam[], changes: readonly TuningChange[]): string[] {
  const byName = new Map(params.map((p) => [p.name, p]));
  const byFile = new Map<string, { param: TunedParam; change: TuningChange }[]>();
  for (const change of changes) {
    const param = byName.get(change.name);
    if (param === undefined) throw new Error(`tuner proposed a change to unknown constant ${change.name}`);
    const edits = byFile.get(param.file) ?? [];
    edits.push({ param, change });
    byFile.set(param.file, edits);
  }
  const written: string[] = [];
  for (const [file, edits] of byFile) {
    const path = join(root, file);
    const before = readFileSync(path, 'utf8');
    // Splitting on "\n" alone keeps any "\r" at the end of its line, so CRLF files stay CRLF.
    const lines = before.split('\n');
    for (const { param, change } of edits) {
      const index = param.line - 1;
      lines[index] = replaceLiteral(lines[index] ?? '', param.column, param.literal, change.toText);
    }
    const after = lines.join('\n');
    if (after === before) continue;
    // The tuner's worktree is crucible's own: its file is rewritten in place (decisions 74).
    if (!overwriteInPlace(path, after)) writeFileSync(path, after);
    written.push(file);
  }
  return written;
}
