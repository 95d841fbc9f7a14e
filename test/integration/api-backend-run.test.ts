import path from 'node:path';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { statusCommand } from '../../src/cli/commands/status.js';
import { createOutput } from '../../src/cli/output.js';
import { AgentError } from '../../src/errors.js';
import { startRun } from '../../src/loop/start-run.js';
import { createTinyProject, findInconsistencies, killLeftovers, ledgerEvents, rowOf, type TinyProject } from '../helpers/project.js';
import { startFakeOpenAI, type ChatBody, type FakeOpenAIServer, type FakeStep } from '../fixtures/fake-llm/openai-server.js';

/**
 * Whole `crucible run`s with `agent.type: api` against a fake OpenAI-compatible server (as Ollama
 * or vLLM would be): the scripted model reads, edits and improves the metric, is refused the
 * hidden and read-only files, and its usage adds up in `crucible status --json`.
 */

let project: TinyProject | undefined;
let server: FakeOpenAIServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

function apiConfig(baseUrl: string, extra: { maxRetries?: number; maxIterations?: number; timeoutSeconds?: number; apiKeyEnv?: string } = {}): string {
  return [
    'name: tiny',
    'files:',
    '  editable: [solution.js]',
    '  readonly: [package.json]',
    '  hidden: [evaluate.js]',
    'commands:',
    '  run: node evaluate.js > run.log 2>&1',
    '  eval: cat run.log',
    'metric:',
    '  name: score',
    '  direction: maximize',
    'constraints:',
    '  timeout_seconds: 10',
    `  max_retries: ${extra.maxRetries ?? 3}`,
    `  max_iterations: ${extra.maxIterations ?? 2}`,
    'agent:',
    '  type: api',
    '  provider: openai-compatible',
    '  model: qwen3:8b',
    `  base_url: ${baseUrl}`,
    `  timeout_seconds: ${extra.timeoutSeconds ?? 20}`,
    ...(extra.apiKeyEnv ? [`  api_key_env: ${extra.apiKeyEnv}`] : []),
    '  pricing:',
    '    "qwen3:8b": { input: 1, output: 2 }',
    '',
  ].join('\n');
}

/** The trial number, from the prompt crucible sent ("Trial: N"). */
function trialOf(body: ChatBody): number {
  const prompt = body.messages?.find((m) => m.role === 'user')?.content;
  return Number(/Trial: (\d+)/.exec(String(prompt))?.[1] ?? 0);
}

const call = (name: string, args: Record<string, unknown>) => ({ name, args });
const solution = (x: number) => `export const X = ${x}; // @tune 1..100 int\n`;

function statusJson(dir: string, tag: string): Promise<Record<string, unknown>> {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return statusCommand({ projectDir: dir, tag, json: true }, createOutput({ stdout: stream, stderr: new Writable({ write: (_c, _e, cb) => cb() }), color: false })).then(
    () => JSON.parse(text) as Record<string, unknown>,
  );
}

describe('crucible run with agent.type api', () => {
  it('improves the metric through the file tools, is refused hidden and read-only files, and reports its usage', async () => {
    const script = (body: ChatBody, step: number): FakeStep => {
      const trial = trialOf(body);
      const usage = { prompt_tokens: 1000, completion_tokens: 100, cached_tokens: 600 };
      if (trial === 1) {
        const steps: FakeStep[] = [
          { toolCalls: [call('glob', { pattern: '**/*' }), call('read_file', { path: 'solution.js' })], usage },
          { toolCalls: [call('read_file', { path: 'evaluate.js' }), call('write_file', { path: 'package.json', content: '{}' })], usage },
          { toolCalls: [call('edit_file', { path: 'solution.js', old_string: 'X = 1;', new_string: 'X = 50;' })], usage },
          { text: 'Raised X from 1 to 50', usage },
        ];
        return steps[step] ?? { text: 'done' };
      }
      const steps: FakeStep[] = [{ toolCalls: [call('write_file', { path: 'solution.js', content: solution(80) })], usage }, { text: 'Raised X to 80', usage }];
      return steps[step] ?? { text: 'done' };
    };
    server = await startFakeOpenAI(script);
    const p = createTinyProject({ configText: apiConfig(server.url) });
    project = p;

    const report = await startRun({ projectDir: p.dir, tag: 't', env: p.env });

    expect(report.reason).toEqual({ kind: 'max-iterations', trials: 2 });
    expect(rowOf(p.dir, 't', 1)).toMatchObject({ status: 'keep', metric_value: '50', description: 'Raised X from 1 to 50' });
    expect(rowOf(p.dir, 't', 2)).toMatchObject({ status: 'keep', metric_value: '80', description: 'Raised X to 80' });
    expect(findInconsistencies(p.dir, 't')).toEqual([]);

    // Trial 1's second step was sent the refusals.
    const secondStep = server.chatRequests().find((b) => trialOf(b) === 1 && b.messages?.filter((m) => m.role === 'tool').length === 4);
    const results = secondStep?.messages?.filter((m) => m.role === 'tool').map((m) => String(m.content)) ?? [];
    expect(results[0]).not.toContain('evaluate.js');
    expect(results[2]).toContain('evaluate.js is hidden: you cannot read or change it');
    expect(results[3]).toContain('package.json is read-only (editable files: solution.js)');
    // The harness never reached the model, in any request.
    for (const r of server.requests) expect(r.body).not.toContain('appendFileSync');

    const usages = ledgerEvents(p.dir, 't')
      .filter((e) => e.type === 'agent.done')
      .map((e) => e['usage']);
    expect(usages).toEqual([
      { inputTokens: 1600, outputTokens: 400, cacheReadTokens: 2400, cacheWriteTokens: 0, costUsd: (1600 + 800 + 240) / 1e6 },
      { inputTokens: 800, outputTokens: 200, cacheReadTokens: 1200, cacheWriteTokens: 0, costUsd: (800 + 400 + 120) / 1e6 },
    ]);
    const status = await statusJson(p.dir, 't');
    expect(status['usage']).toEqual({ input_tokens: 2400, output_tokens: 600, cache_read_tokens: 3600, cache_write_tokens: 0, cost_usd: 0.00396 });
    // Each trial's folder holds what its agent turn used.
    const trialUsage = JSON.parse(readFileSync(path.join(p.dir, '.crucible/runs/t/trials/1/usage.json'), 'utf8')) as unknown;
    expect(trialUsage).toEqual(usages[0]);
  });

  it('a model that never edits makes skips, and max_retries stops the run', async () => {
    server = await startFakeOpenAI((_body, step) => (step === 0 ? { toolCalls: [call('read_file', { path: 'solution.js' })] } : { text: 'It is fine as it is.' }));
    const p = createTinyProject({ configText: apiConfig(server.url, { maxRetries: 2, maxIterations: 5 }) });
    project = p;
    const report = await startRun({ projectDir: p.dir, tag: 't', env: p.env });
    expect(report.reason).toMatchObject({ kind: 'max-retries', count: 2 });
    expect([rowOf(p.dir, 't', 1)?.['status'], rowOf(p.dir, 't', 2)?.['status']]).toEqual(['skip', 'skip']);
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });

  it('a rejected key stops the run before anything is created (exit code 7)', async () => {
    server = await startFakeOpenAI();
    server.failWith(401);
    const p = createTinyProject({ configText: apiConfig(server.url, { apiKeyEnv: 'LOCAL_LLM_KEY' }) });
    project = p;
    const error = await startRun({ projectDir: p.dir, tag: 't', env: { ...p.env, LOCAL_LLM_KEY: 'wrong' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).kind).toBe('fatal');
    expect((error as AgentError).exitCode).toBe(7);
    expect((error as AgentError).message).toMatch(/^agent\.api_key_env: the key in LOCAL_LLM_KEY was rejected \(401 Unauthorized\)/);
    expect(server.chatRequests()).toHaveLength(0);
    expect(ledgerEvents(p.dir, 't')).toEqual([]);
  });

  it('a server that never answers hits the agent timeout; the trial is an agent error', async () => {
    server = await startFakeOpenAI();
    server.hang();
    const p = createTinyProject({ configText: apiConfig(server.url, { maxRetries: 1, maxIterations: 3, timeoutSeconds: 1 }) });
    project = p;
    const report = await startRun({ projectDir: p.dir, tag: 't', env: p.env });
    expect(report.reason).toMatchObject({ kind: 'max-retries' });
    expect(rowOf(p.dir, 't', 1)).toMatchObject({ status: 'agent-error' });
    expect(ledgerEvents(p.dir, 't').find((e) => e.type === 'agent.error')).toMatchObject({ kind: 'timeout' });
  });
});
