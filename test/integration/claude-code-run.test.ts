import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { statusCommand } from '../../src/cli/commands/status.js';
import type { Output } from '../../src/cli/output.js';
import { AgentError } from '../../src/errors.js';
import { startRun } from '../../src/loop/start-run.js';
import { git } from '../helpers/git-repo.js';
import { createTinyProject, findInconsistencies, isPidAlive, killLeftovers, type TinyProject } from '../helpers/project.js';
import { startFakeAnthropic, type FakeAnthropicServer, type FakeStep, type MessagesBody } from '../fixtures/fake-llm/anthropic-server.js';

// Full `crucible run`s with agent.type claude-code: the real Agent SDK and its Claude Code CLI,
// talking to a fake Anthropic API on 127.0.0.1. Each trial is one Claude Code session (~1 s,
// ~200 MB), so the runs here are short.

const MODEL = 'claude-sonnet-4-5';
/** A line of the hidden evaluate.js (see test/helpers/project.ts): it must never reach the model. */
const HIDDEN_LINE = 'evaluate.js: the harness is broken';

let fake: FakeAnthropicServer;
let home: string;
let project: TinyProject | undefined;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  home = mkdtempSync(path.join(os.tmpdir(), 'crucible-cc-home-'));
});
afterAll(async () => {
  await fake.close();
  rmSync(home, { recursive: true, force: true });
});
afterEach(() => {
  fake.reset();
  fake.setScript([]);
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

function claudeProject(options: { maxRetries?: number; agentTimeout?: number } = {}): TinyProject {
  project = createTinyProject({
    configText: [
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
      `  max_retries: ${options.maxRetries ?? 3}`,
      'agent:',
      '  type: claude-code',
      `  model: ${MODEL}`,
      `  timeout_seconds: ${options.agentTimeout ?? 60}`,
      '',
    ].join('\n'),
  });
  return project;
}

/** The user's environment as crucible sees it: a key for the fake, no retries inside Claude Code, a HOME with nothing in it. */
function envFor(p: TinyProject): NodeJS.ProcessEnv {
  return { ...p.env, HOME: home, ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: fake.url, CLAUDE_CODE_MAX_RETRIES: '0' };
}

/** Text of every tool_result block in the conversation so far, oldest first. */
function toolResults(body: MessagesBody): string[] {
  const out: string[] = [];
  for (const message of body.messages ?? []) {
    if (message.role !== 'user' || !Array.isArray(message.content)) continue;
    for (const block of message.content as { type?: string; content?: unknown }[]) {
      if (block.type === 'tool_result') out.push(typeof block.content === 'string' ? block.content : JSON.stringify(block.content));
    }
  }
  return out;
}

describe('agent.type claude-code, in a full run', () => {
  it('reads, edits and improves the metric; hidden, outside and read-only paths are refused; usage adds up', async () => {
    const p = claudeProject();
    // An "@path" in the instructions must not make Claude Code attach the file by itself.
    writeFileSync(path.join(p.dir, '.crucible', 'program.md'), `Make the score better by changing X in solution.js. The harness is @${p.dir}/evaluate.js\n`);
    git(p.dir, 'commit', '-q', '-am', 'program');
    const usage = { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 50, cache_creation_input_tokens: 10 };
    // A model that reads solution.js, tries the forbidden moves, then adds 10 to X.
    fake.setScript((body, step): FakeStep => {
      const current = Number(/export const X = (\d+)/.exec(toolResults(body).join('\n'))?.[1] ?? NaN);
      if (step === 0) {
        return {
          usage,
          content: [
            { type: 'text', text: 'Let me look around.' },
            { type: 'tool_use', name: 'Read', input: { file_path: 'solution.js' } },
            { type: 'tool_use', name: 'Read', input: { file_path: 'evaluate.js' } },
            { type: 'tool_use', name: 'Read', input: { file_path: path.join(p.dir, 'evaluate.js') } },
            { type: 'tool_use', name: 'Grep', input: { pattern: 'harness', path: p.dir } },
            { type: 'tool_use', name: 'Glob', input: { pattern: '../**/*.js' } },
            { type: 'tool_use', name: 'Read', input: { file_path: 'package.json' } },
          ],
        };
      }
      if (step === 1) {
        return {
          usage,
          content: [
            { type: 'tool_use', name: 'Edit', input: { file_path: 'solution.js', old_string: `X = ${current};`, new_string: `X = ${current + 10};` } },
            { type: 'tool_use', name: 'Write', input: { file_path: 'package.json', content: '{}\n' } },
          ],
        };
      }
      return { usage, content: [{ type: 'text', text: `I will raise X.\nRaised X from ${current} to ${current + 10} to increase the score.` }] };
    });

    const report = await startRun({ projectDir: p.dir, tag: 'cc', env: envFor(p), maxIterations: 2 });

    expect(report.reason).toEqual({ kind: 'max-iterations', trials: 2 });
    expect(report.history.map((t) => [t.outcome, t.metric])).toEqual([
      ['baseline', 1],
      ['keep', 11],
      ['keep', 21],
    ]);
    expect(report.history[2]?.description).toBe('Raised X from 11 to 21 to increase the score.');
    expect(readFileSync(path.join(p.dir, 'solution.js'), 'utf8')).toContain('X = 21;');
    expect(readFileSync(path.join(p.dir, 'package.json'), 'utf8')).toBe('{ "type": "module" }\n');
    expect(findInconsistencies(p.dir, 'cc')).toEqual([]);

    const bodies = fake.messageRequests();
    expect(bodies).toHaveLength(6);
    for (const body of bodies) {
      expect(body.model).toBe(MODEL);
      expect((body.tools ?? []).map((t) => t.name).sort()).toEqual(['Edit', 'Glob', 'Grep', 'Read', 'Write']);
    }
    const raw = fake.requests.map((r) => r.body).join('\n');
    expect(raw).not.toContain(HIDDEN_LINE);
    const refusals = toolResults(bodies[2]!);
    expect(refusals).toEqual(
      expect.arrayContaining([
        expect.stringContaining('evaluate.js is hidden: you cannot read or change it'),
        expect.stringContaining(`${path.join(p.dir, 'evaluate.js')} is outside the workspace`),
        expect.stringContaining(`${p.dir} is outside the workspace`),
        expect.stringContaining('the pattern ../**/*.js reaches outside the workspace'),
        expect.stringContaining('package.json is read-only (editable files: solution.js)'),
      ]),
    );
    // crucible's system prompt, not Claude Code's.
    expect(JSON.stringify(bodies[0]!.system)).toContain('You are an optimisation agent');

    // Usage: 3 model calls per trial, totals in `crucible status --json`; the cost is Claude Code's.
    const status = await statusJson(p.dir, 'cc');
    expect(status.usage).toMatchObject({ input_tokens: 600, output_tokens: 120, cache_read_tokens: 300, cache_write_tokens: 60 });
    // claude-sonnet-4-5 list prices per million: $3 input, $15 output, $0.30 cache read, $3.75 cache write.
    expect(status.usage.cost_usd).toBeCloseTo((600 * 3 + 120 * 15 + 300 * 0.3 + 60 * 3.75) / 1e6, 5);

    const transcript = path.join(p.dir, '.crucible', 'runs', 'cc', 'trials', '1', 'transcript.jsonl');
    const types = readFileSync(transcript, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { type: string }).type);
    expect(types).toContain('result');
  });

  it('stops before the first trial when the endpoint rejects the key', async () => {
    const p = claudeProject();
    fake.failWith(401);
    const error = await startRun({ projectDir: p.dir, tag: 'cc', env: envFor(p) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ kind: 'fatal', exitCode: 7 });
    expect((error as AgentError).message).toMatch(/ANTHROPIC_API_KEY was rejected \(401/);
    expect(fake.messageRequests()).toHaveLength(0);
    expect(git(p.dir, 'branch', '--list', 'crucible/*')).toBe('');
    expect(existsSync(path.join(p.dir, 'results.tsv'))).toBe(false);
  });

  it('records a model that never edits as skips, until max_retries stops the run', async () => {
    const p = claudeProject({ maxRetries: 2 });
    fake.setScript([{ content: [{ type: 'text', text: 'Nothing to improve here.' }] }]);
    const report = await startRun({ projectDir: p.dir, tag: 'cc', env: envFor(p) });
    expect(report.reason).toMatchObject({ kind: 'max-retries', count: 2 });
    expect(report.history.map((t) => t.outcome)).toEqual(['baseline', 'skip', 'skip']);
    expect(fake.messageRequests()).toHaveLength(2);
  });

  it('ends a session whose model never answers at the agent timeout, leaving no process behind', async () => {
    // Claude Code takes about a second to start and ask the model here, more under load: the
    // timeout leaves it room to reach the request that never gets an answer.
    const p = claudeProject({ maxRetries: 1, agentTimeout: 5 });
    fake.hang();
    // Claude Code's processes, as seen while the session runs (their command lines vanish with them).
    const claude = new Set<number>();
    const watch = setInterval(() => {
      for (const pid of descendants(process.pid)) if (commandOf(pid).includes('claude')) claude.add(pid);
    }, 100);
    let report;
    try {
      report = await startRun({ projectDir: p.dir, tag: 'cc', env: envFor(p) });
    } finally {
      clearInterval(watch);
    }
    expect(report.history.map((t) => t.outcome)).toEqual(['baseline', 'agent-error']);
    expect(report.history[1]?.detail).toMatch(/did not finish within 5s/);
    expect(fake.messageRequests()).toHaveLength(1);
    expect(claude.size).toBeGreaterThan(0);
    expect([...claude].filter(isPidAlive)).toEqual([]);
    expect(descendants(process.pid).filter((pid) => commandOf(pid).includes('claude'))).toEqual([]);
  });
});

async function statusJson(projectDir: string, tag: string): Promise<{ usage: { input_tokens: number; output_tokens: number; cache_read_tokens: number; cache_write_tokens: number; cost_usd: number | null } }> {
  const lines: string[] = [];
  const noop = (): void => undefined;
  const same = (s: string): string => s;
  const out: Output = { data: (text) => lines.push(text), info: noop, debug: noop, warn: noop, error: noop, color: false, verbose: false, columns: 80, style: { bold: same, dim: same, green: same, yellow: same, red: same, cyan: same } };
  await statusCommand({ projectDir, tag, json: true }, out);
  return JSON.parse(lines.join('\n')) as Awaited<ReturnType<typeof statusJson>>;
}

/** Every process below `pid` (Linux /proc), children first. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (parent: number): void => {
    for (const [child, ppid] of parentOf) {
      if (ppid === parent && !found.includes(child)) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
