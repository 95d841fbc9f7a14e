import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCommand } from '../../src/cli/commands/compare.js';
import { historyCommand } from '../../src/cli/commands/history.js';
import { postmortemCommand } from '../../src/cli/commands/postmortem.js';
import { statusCommand } from '../../src/cli/commands/status.js';
import { createOutput, type Output } from '../../src/cli/output.js';
import { startRun } from '../../src/loop/start-run.js';
import { compareJson, renderCompare } from '../../src/report/compare.js';
import { historyJson, renderHistory } from '../../src/report/history.js';
import { postmortemJson } from '../../src/report/postmortem-json.js';
import { renderPostmortem } from '../../src/report/postmortem-render.js';
import { analyzeRun } from '../../src/report/postmortem.js';
import { renderStatus, statusJson } from '../../src/report/status.js';
import { summarizeRun } from '../../src/report/summary.js';
import { readResults } from '../../src/store/results-file.js';
import { createTinyProject, killLeftovers, planAgent, setKnob, type TinyProject } from '../helpers/project.js';

/**
 * The read-only commands read each run from its ledger; for a run crucible wrote, they say exactly
 * what they said when they read results.tsv (every outcome, both runs, text and --json).
 */

let p: TinyProject;
const metric = { name: 'score', direction: 'maximize' as const };

async function capture(command: (out: Output) => Promise<void>): Promise<string> {
  let text = '';
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => ((text += chunk.toString()), done()) });
  const stdout = Object.assign(sink, { columns: 100 });
  await command(createOutput({ stdout, stderr: new Writable({ write: (_c, _e, done) => done() }), color: false }));
  return text;
}

/** What the commands printed when they read results.tsv: the same renderers over its rows. */
async function fromResultsTsv(tag: string) {
  const { rows } = await readResults(p.dir);
  return rows.filter((row) => row.tag === tag);
}

beforeAll(async () => {
  p = createTinyProject({ agent: 'command' });
  const hidden = 'console.log("score: 1000");\n';
  planAgent(p, { 1: { x: 5 }, 2: { x: 2 }, 3: { x: 9 }, 4: {}, 5: { write: { 'evaluate.js': hidden } }, 6: { fail: true }, 7: { x: 8 } });
  setKnob(p, 'crash.3', 1);
  await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 7 });
  planAgent(p, { 1: { x: 3 }, 2: { x: 1 } });
  await startRun({ projectDir: p.dir, tag: 'u', env: p.env, maxIterations: 2 });
}, 90_000);

afterAll(() => {
  killLeftovers(p);
  p.cleanup();
});

describe('reports read from the ledger', () => {
  it('cover every outcome of the run', async () => {
    expect((await fromResultsTsv('t')).map((row) => row.status)).toEqual(['baseline', 'keep', 'discard', 'crash', 'skip', 'violation', 'agent-error', 'keep']);
  });

  it('status, text and --json, as from results.tsv', async () => {
    for (const tag of ['t', 'u']) {
      const summary = summarizeRun(await fromResultsTsv(tag), metric.direction);
      const input = { experiment: 'tiny', tag, branch: `crucible/${tag}`, metricName: metric.name, direction: metric.direction, summary, running: null };
      expect(await capture((out) => statusCommand({ projectDir: p.dir, tag, json: false }, out))).toBe(`${renderStatus(input)}\n`);
      expect(await capture((out) => statusCommand({ projectDir: p.dir, tag, json: true }, out))).toBe(`${JSON.stringify(statusJson(input))}\n`);
    }
  });

  it('history, text and --json, as from results.tsv', async () => {
    const rows = await fromResultsTsv('t');
    expect(await capture((out) => historyCommand({ projectDir: p.dir, tag: 't', last: 5, json: false }, out))).toBe(`${renderHistory(rows, { last: 5, width: 100, metricName: 'score' })}\n`);
    expect(await capture((out) => historyCommand({ projectDir: p.dir, tag: 't', last: 50, json: true }, out))).toBe(`${JSON.stringify(historyJson(rows, 50))}\n`);
  });

  it('postmortem, text and --json, as from results.tsv', async () => {
    const pm = analyzeRun(await fromResultsTsv('t'), metric.direction);
    expect(await capture((out) => postmortemCommand({ projectDir: p.dir, tag: 't', json: false }, out))).toBe(`${renderPostmortem(pm, { metricName: 'score', width: 100 })}\n`);
    expect(await capture((out) => postmortemCommand({ projectDir: p.dir, tag: 't', json: true }, out))).toBe(`${JSON.stringify({ metric, ...postmortemJson(pm) })}\n`);
  });

  it('compare, text and --json, as from results.tsv', async () => {
    const [a, b] = [summarizeRun(await fromResultsTsv('t'), metric.direction), summarizeRun(await fromResultsTsv('u'), metric.direction)];
    expect(await capture((out) => compareCommand({ projectDir: p.dir, tagA: 't', tagB: 'u', json: false }, out))).toBe(`${renderCompare(a, b, 'score')}\n`);
    expect(await capture((out) => compareCommand({ projectDir: p.dir, tagA: 't', tagB: 'u', json: true }, out))).toBe(`${JSON.stringify(compareJson(a, b))}\n`);
  });
});
