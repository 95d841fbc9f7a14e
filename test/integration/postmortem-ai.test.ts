import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postmortemCommand, type PostmortemCommandOptions } from '../../src/cli/commands/postmortem.js';
import { createOutput } from '../../src/cli/output.js';
import { AgentError } from '../../src/errors.js';
import { RESULT_COLUMNS, type ResultRow } from '../../src/store/result-row.js';
import { formatResultRow } from '../../src/store/results-format.js';
import { startFakeAnthropic, type FakeAnthropicServer } from '../fixtures/fake-llm/anthropic-server.js';
import { startFakeOpenAI, type FakeOpenAIServer } from '../fixtures/fake-llm/openai-server.js';

// `crucible postmortem --ai`: the usual report, then insights from a model, through the real
// clients (the AI SDK; the Claude Agent SDK once) against fake servers on 127.0.0.1.

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const INSIGHTS = '1. The typed array (trial 2) made the jump.\n\n2. Two crashes in a row came from broken imports.\n3. Try a radix sort next.';

let openai: FakeOpenAIServer;
let base: string;

beforeAll(async () => {
  openai = await startFakeOpenAI([{ text: INSIGHTS }]);
  base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-postmortem-ai-')));
});
afterAll(async () => {
  await openai.close();
  rmSync(base, { recursive: true, force: true });
});
afterEach(() => {
  openai.reset();
  openai.requests.length = 0;
});

function row(trial: number, status: ResultRow['status'], metric: number | null, description: string): ResultRow {
  return { commit: metric === null ? '' : `abc${trial}def`, metric, status, description, tag: 'run1', trial, timestamp: '2026-03-13T10:00:00Z', agentSeconds: 1, runSeconds: 1, totalSeconds: 2, costUsd: null };
}

let projects = 0;
/** A project with a finished run1 in results.tsv, and the agent section given. */
function project(agent: string[]): string {
  projects += 1;
  const dir = path.join(base, `p${projects}`);
  mkdirSync(path.join(dir, '.crucible'), { recursive: true });
  const config = ['name: sorting', 'description: sort faster', 'files:', '  editable: [sort.js]', 'commands:', '  run: "true"', '  eval: "true"', 'metric:', '  name: ops_per_sec', '  direction: maximize', 'agent:', ...agent.map((line) => `  ${line}`), ''];
  writeFileSync(path.join(dir, '.crucible', 'config.yaml'), config.join('\n'));
  const rows = [
    row(0, 'baseline', 100, '(unmodified code)'),
    row(1, 'discard', 90, 'insertion sort'),
    row(2, 'keep', 150, 'use a typed array'),
    row(3, 'crash', null, 'broke the import'),
    row(4, 'crash', null, 'broke it again'),
  ];
  writeFileSync(path.join(dir, 'results.tsv'), [RESULT_COLUMNS.join('\t'), ...rows.map((r) => formatResultRow(r))].join('\n') + '\n');
  return dir;
}

const apiAgent = (): string[] => ['type: api', 'provider: openai-compatible', `base_url: ${openai.url}`, 'model: fake-model'];

async function postmortem(options: Omit<PostmortemCommandOptions, 'tag'>): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) => new Writable({ write: (chunk: Buffer, _enc, done) => (append(chunk.toString()), done()) });
  const out = createOutput({ stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), color: false });
  await postmortemCommand({ tag: 'run1', ...options }, out);
  return { stdout, stderr };
}

describe('postmortem --ai', () => {
  it('appends the insights of the configured model to the text report', async () => {
    const dir = project(apiAgent());
    const { stdout, stderr } = await postmortem({ projectDir: dir, json: false, ai: true, env: {} });
    expect(stdout).toContain('## Summary');
    expect(stdout).toContain(
      '## Insights (fake-model)\n  1. The typed array (trial 2) made the jump.\n\n  2. Two crashes in a row came from broken imports.\n  3. Try a radix sort next.\n',
    );
    expect(stdout.indexOf('## Summary')).toBeLessThan(stdout.indexOf('## Insights'));
    expect(stderr).toContain('Asking fake-model (api) for insights...');

    const [request] = openai.chatRequests();
    expect(openai.chatRequests()).toHaveLength(1);
    expect(request?.tools).toBeUndefined();
    const user = String(request?.messages?.find((m) => m.role === 'user')?.content);
    expect(user).toContain('Metric: ops_per_sec (maximize, higher is better)');
    expect(user).toContain('  2: 150, keep (turning point), use a typed array');
    expect(user).toContain('trials 3-4: 2 in a row');
  });

  it('fills ai_insights and ai_usage in the JSON, with --model over agent.model', async () => {
    const dir = project(apiAgent());
    const { stdout } = await postmortem({ projectDir: dir, json: true, ai: true, model: 'other-model', env: {} });
    const json = JSON.parse(stdout) as Record<string, unknown>;
    expect(json['ai_insights']).toBe(INSIGHTS);
    expect(json['ai_usage']).toEqual({ agent: 'api', model: 'other-model', input_tokens: 100, output_tokens: 20, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: null });
    expect(json['best_metric']).toBe(150);
    expect(openai.chatRequests()[0]?.model).toBe('other-model');
  });

  it('changes nothing without --ai: no request, ai_insights null, no ai_usage', async () => {
    const dir = project(apiAgent());
    const json = JSON.parse((await postmortem({ projectDir: dir, json: true, env: {} })).stdout) as Record<string, unknown>;
    expect(json['ai_insights']).toBeNull();
    expect('ai_usage' in json).toBe(false);
    expect((await postmortem({ projectDir: dir, json: false, env: {} })).stdout).not.toContain('Insights');
    expect(openai.requests).toHaveLength(0);
  });

  it('fails before any output when the key is missing (exit 7)', async () => {
    const dir = project([...apiAgent(), 'api_key_env: CRUCIBLE_TEST_UNSET_KEY']);
    const error = await postmortem({ projectDir: dir, json: false, ai: true, env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).exitCode).toBe(7);
    expect((error as AgentError).message).toBe('agent.api_key_env: environment variable CRUCIBLE_TEST_UNSET_KEY is not set');
    expect(openai.requests).toHaveLength(0);
  });

  it('exits 7 with the reason when the endpoint rejects the key (built CLI)', async () => {
    const dir = project([...apiAgent(), 'api_key_env: CRUCIBLE_TEST_KEY']);
    openai.failWith(401);
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [cli, 'postmortem', '--ai', '--json', '--tag', 'run1'], {
        cwd: dir,
        env: { PATH: process.env['PATH'], HOME: base, NO_COLOR: '1', CRUCIBLE_TEST_KEY: 'sk-wrong' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.code).toBe(7);
    expect(result.stderr).toContain('error: agent.api_key_env: the key in CRUCIBLE_TEST_KEY was rejected (401 Unauthorized)');
    expect(result.stdout).toBe('');
  });
});

describe('postmortem --ai --agent claude-code', () => {
  let anthropic: FakeAnthropicServer;
  let home: string;
  beforeAll(async () => {
    anthropic = await startFakeAnthropic([{ content: [{ type: 'text', text: '1. Keep the typed array.\n2. Stop breaking imports.\n3. Try radix sort.' }] }]);
    home = mkdtempSync(path.join(os.tmpdir(), 'crucible-cc-home-'));
  });
  afterAll(async () => {
    await anthropic.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('asks Claude Code for one turn without tools', async () => {
    // A project whose own agent is the offline tuner: --agent picks the backend that writes.
    const dir = project(['type: tuner']);
    const env = { PATH: process.env['PATH'], HOME: home, ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: anthropic.url, CLAUDE_CODE_MAX_RETRIES: '0' };
    const { stdout } = await postmortem({ projectDir: dir, json: false, ai: true, agent: 'claude-code', model: 'claude-sonnet-4-5', env });
    expect(stdout).toContain('## Insights (claude-sonnet-4-5)\n  1. Keep the typed array.\n  2. Stop breaking imports.\n  3. Try radix sort.');
    const requests = anthropic.messageRequests();
    expect(requests.length).toBeGreaterThanOrEqual(1);
    const main = requests.find((body) => JSON.stringify(body.system ?? '').includes('experiment analyst'));
    expect(main).toBeDefined();
    expect(main?.tools ?? []).toEqual([]);
    expect(JSON.stringify(main?.messages)).toContain('Metric: ops_per_sec');
  });
});
