/** Writes a proposal into the files: each changed literal replaced in place, nothing else touched. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TunedParam, TuningChange } from './types.js';
import { replaceLiteral } from './literal.js';

export async function applyChanges(root: string, params: readonly TunedParam[], changes: readonly TuningChange[]): Promise<void> {
  const byName = new Map(params.map((p) => [p.name, p]));
  const byFile = new Map<string, { param: TunedParam; change: TuningChange }[]>();
  for (const change of changes) {
    const param = byName.get(change.name);
    if (param === undefined) throw new Error(`tuner proposed a change to unknown constant ${change.name}`);
    const edits = byFile.get(param.file) ?? [];
    edits.push({ param, change });
    byFile.set(param.file, edits);
  }
  for (const [file, edits] of byFile) {
    const path = join(root, file);
    // Splitting on "\n" alone keeps any "\r" at the end of its line, so CRLF files stay CRLF.
    const lines = (await readFile(path, 'utf8')).split('\n');
    for (const { param, change } of edits) {
      const index = param.line - 1;
      lines[index] = replaceLiteral(lines[index] ?? '', param.column, param.literal, change.toText);
    }
    await writeFile(path, lines.join('\n'));
  }
}
