import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCommand } from '../../src/cli/commands/compare.js';
import { historyCommand } from '../../src/cli/commands/history.js';
import { postmortemCommand } from '../../src/cli/commands/postmortem.js';
import { statusCommand } from '../../src/cli/commands/status.js';
import { createOutput, type Output } from '../../src/cli/output.js';
import { startRun } from '../../src/loop/start-run.js';
import { createTinyProject, killLeftovers, planAgent, setKnob, type TinyProject } from '../helpers/project.js';

/**
 * results.tsv sits in the project folder, where anything (an experiment, another tool, a person)
 * can write. The read-only commands read each run from its ledger, so a row forged or edited in
 * results.tsv changes nothing they say.
 */

let p: TinyProject;
const before: Record<string, string> = {};

async function capture(command: (out: Output) => Promise<void>): Promise<string> {
  let text = '';
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => ((text += chunk.toString()), done()) });
  await command(createOutput({ stdout: sink, stderr: new Writable({ write: (_c, _e, done) => done() }), color: false }));
  return text;
}

const commands: Record<string, (out: Output) => Promise<void>> = {
  status: (out) => statusCommand({ projectDir: p.dir, tag: 't', json: false }, out),
  statusJson: (out) => statusCommand({ projectDir: p.dir, tag: undefined, json: true }, out),
  historyJson: (out) => historyCommand({ projectDir: p.dir, tag: 't', last: 100, json: true }, out),
  postmortemJson: (out) => postmortemCommand({ projectDir: p.dir, tag: 't', json: true }, out),
  compareJson: (out) => compareCommand({ projectDir: p.dir, tagA: 't', tagB: 'u', json: true }, out),
};

beforeAll(async () => {
  p = createTinyProject({ agent: 'command' });
  planAgent(p, { 1: { x: 5 }, 2: { x: 2 }, 3: { x: 9 } });
  setKnob(p, 'crash.3', 1);
  await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 3 });
  await startRun({ projectDir: p.dir, tag: 'u', env: p.env, maxIterations: 1 });
  for (const [name, command] of Object.entries(commands)) before[name] = await capture(command);
}, 60_000);

afterAll(() => {
  killLeftovers(p);
  p.cleanup();
});

describe('a forged results.tsv', () => {
  it('fools neither status, history, postmortem nor compare: they read the ledger', async () => {
    const file = path.join(p.dir, 'results.tsv');
    const original = readFileSync(file, 'utf8');
    expect(JSON.parse(before['statusJson']!)).toMatchObject({ tag: 'u', total: 1 });
    expect(JSON.parse(before['historyJson']!).map((r: { status: string }) => r.status)).toEqual(['baseline', 'keep', 'discard', 'crash']);

    // An existing row turned into a better keep, and a keep nobody measured appended to each run.
    const lines = original.split('\n').map((line) => {
      const cells = line.split('\t');
      return cells[4] === 't' && cells[5] === '2' ? [cells[0], '1000', 'keep', 'forged: the best ever', ...cells.slice(4)].join('\t') : line;
    });
    writeFileSync(file, lines.join('\n'));
    for (const tag of ['t', 'u']) appendFileSync(file, `${['deadbee', '999999', 'keep', 'forged', tag, '7', '2030-01-01T00:00:00.000Z', '', '', '', '', '', '', '', ''].join('\t')}\n`);

    for (const [name, command] of Object.entries(commands)) expect(await capture(command), name).toBe(before[name]);
  });
});
