import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTextModel } from '../../src/agents/text-model.js';
import { CrucibleError, ProjectError } from '../../src/errors.js';
import type { DetectedEnvironment } from '../../src/project/wizard/environment.js';
import { runWizard, type WizardDeps } from '../../src/project/wizard/run-wizard.js';
import { agentConfigWith } from '../helpers/agent-config.js';
import { startFakeOpenAI, type ChatBody, type FakeOpenAIServer } from '../fixtures/fake-llm/openai-server.js';

// `crucible wizard` end to end: the real AI SDK client (agent.type api, provider
// openai-compatible) against a fake Chat Completions server that answers the two calls (analyse,
// generate) with a small, correct Node project; then the real `crucible validate` on it.

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const ENVIRONMENT: DetectedEnvironment = { platform: 'linux', release: '6.1', arch: 'x64', node: 'v20.20.0', cpus: 2, ramGb: 8, python: null, gpus: [] };

const ANALYSIS = {
  name: 'double-it',
  metric: { name: 'score', direction: 'maximize' },
  editable_files: ['solution.js'],
  language: 'node',
  timeout_seconds: 30,
  architecture_guards: ['double() must not call Math functions: the harness scans solution.js'],
  uncertain: [
    {
      param: 'size',
      question: 'How many test inputs?',
      choices: [
        { label: 'ten', explanation: 'fast' },
        { label: 'a thousand', explanation: 'more thorough' },
      ],
    },
  ],
};

const EVALUATE = `// Hidden harness: checks double() on ten inputs and scores the correct answers.
import { readFileSync, writeFileSync } from 'node:fs';
import { double } from './solution.js';

const source = readFileSync(new URL('./solution.js', import.meta.url), 'utf8');
const banned = /\\bMath\\./.test(source);
let correct = 0;
for (let x = 0; x < 10; x++) if (double(x) === 2 * x) correct++;
const score = banned ? 0 : correct * 10;
const lines = [\`score: \${score}\`, \`correct: \${correct}/10\`];
writeFileSync('run.log', lines.join('\\n') + '\\n');
console.log(lines.join('\\n'));
`;

function projectFiles(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const files: Record<string, string | undefined> = {
    '.crucible/config.yaml': [
      'name: double-it',
      'description: make double() correct',
      'files:',
      '  editable: [solution.js]',
      '  readonly: [package.json]',
      '  hidden: [evaluate.js]',
      'commands:',
      '  run: node evaluate.js',
      '  eval: cat run.log',
      'metric:',
      '  name: score',
      '  direction: maximize',
      'constraints:',
      '  timeout_seconds: 30',
      '  max_retries: 5',
      '',
    ].join('\n'),
    '.crucible/program.md': '# Goal\n\nMaximise `score`: double(x) must return twice x. Do not use Math.\n',
    'solution.js': '// The baseline: right for x = 0 only.\nexport function double(x) {\n  return x;\n}\n',
    'evaluate.js': EVALUATE,
    'README.md': '# double-it\n\nA tiny crucible experiment: make double() correct.\n',
    'package.json': '{ "name": "double-it", "private": true, "type": "module" }\n',
    '.gitignore': 'run.log\n',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(files).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

const isGenerate = (body: ChatBody): boolean => JSON.stringify(body.messages?.[0]?.content ?? '').includes('Write these files');

let fake: FakeOpenAIServer;
let base: string;
let analysisReplies: string[] = [];
let generationReplies: string[] = [];

/** Scripts the next answers: each call takes the first reply left, the last one repeats. */
function script(options: { analysis?: string[]; generation?: string[] } = {}): void {
  analysisReplies = options.analysis ?? [JSON.stringify(ANALYSIS)];
  generationReplies = options.generation ?? [JSON.stringify({ files: projectFiles(), summary: 'Make double() correct; scored on ten inputs.' })];
}

beforeAll(async () => {
  fake = await startFakeOpenAI((body) => {
    const replies = isGenerate(body) ? generationReplies : analysisReplies;
    return { text: (replies.length > 1 ? replies.shift() : replies[0]) ?? '' };
  });
  base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-wizard-')));
});
afterAll(async () => {
  await fake.close();
  rmSync(base, { recursive: true, force: true });
});
afterEach(() => {
  fake.reset();
  fake.requests.length = 0;
  script();
});

let count = 0;
function freshDest(): string {
  count += 1;
  return path.join(base, `case-${count}`, 'project');
}

function deps(extra: Partial<WizardDeps> = {}): WizardDeps {
  const agent = agentConfigWith({ type: 'api', provider: 'openai-compatible', base_url: fake.url, model: 'fake-model' });
  return { model: createTextModel('api', agent, {}, { maxRetries: 0 }), environment: ENVIRONMENT, ...extra };
}

const options = (dest: string) => ({ dest, description: 'Make double(x) return 2x, without Math', agentSection: 'agent:\n  type: api' });

async function wizardError(dest: string, extra: Partial<WizardDeps> = {}): Promise<unknown> {
  try {
    await runWizard(options(dest), deps(extra));
  } catch (error) {
    return error;
  }
  throw new Error('the wizard did not fail');
}

describe('wizard (in process)', () => {
  it('writes a project that passes validate, from the description, the environment and the recommended answers', async () => {
    script();
    const dest = freshDest();
    const checks: string[] = [];
    const result = await runWizard(options(dest), deps({ onCheck: (check) => checks.push(`${check.status} ${check.name}: ${check.message}`) }));

    expect(result.passed).toBe(true);
    expect(result.dest).toBe(dest);
    expect(result.files).toEqual(['.crucible/config.yaml', '.crucible/program.md', '.gitignore', 'README.md', 'evaluate.js', 'package.json', 'solution.js']);
    expect(result.summary).toBe('Make double() correct; scored on ten inputs.');
    expect(result.decisions).toEqual([{ param: 'size', question: 'How many test inputs?', answer: 'ten' }]);
    expect(checks).toContain('pass Eval/metric: score: 10');
    expect(readFileSync(path.join(dest, '.gitignore'), 'utf8')).toBe('run.log\nresults.tsv\n.crucible/runs/\n.crucible/slots/\nnode_modules/\n');
    expect(result.usage).toMatchObject({ inputTokens: 200, outputTokens: 40 });

    const [analyse, generate] = fake.chatRequests();
    expect(fake.chatRequests()).toHaveLength(2);
    const user = (body: ChatBody | undefined): string => String(body?.messages?.find((m) => m.role === 'user')?.content ?? '');
    expect(user(analyse)).toContain('Make double(x) return 2x, without Math');
    expect(user(analyse)).toContain('[Detected runtime environment]\nOS: linux 6.1 (x64)');
    expect(JSON.stringify(generate?.messages?.[0])).toContain('Generate or hold the test data itself');
    expect(user(generate)).toContain('- How many test inputs? ten');
    expect(user(generate)).toContain('double() must not call Math functions');
    expect(user(generate)).toContain('agent:\n  type: api');
  });

  it("uses the user's answers to the open questions", async () => {
    script();
    const result = await runWizard(options(freshDest()), deps({ ask: (questions) => Promise.resolve(questions.map((q) => ({ param: q.param, question: q.question, answer: q.choices[1]!.label }))) }));
    expect(result.decisions[0]?.answer).toBe('a thousand');
    expect(String(fake.chatRequests()[1]?.messages?.at(-1)?.content)).toContain('- How many test inputs? a thousand');
  });

  it('asks once more when the answer is not the JSON asked for', async () => {
    script({ analysis: ['Sure! Here is my analysis: the metric is score.', JSON.stringify(ANALYSIS)] });
    const result = await runWizard(options(freshDest()), deps());
    expect(result.passed).toBe(true);
    const requests = fake.chatRequests();
    expect(requests).toHaveLength(3);
    expect(String(requests[1]?.messages?.at(-1)?.content)).toContain('Your previous answer could not be used: the answer held no JSON object');
  });

  it('gives up with a clear error after a second unusable answer, having written nothing', async () => {
    script({ generation: ['{"files": {"a.js": 1}}'] });
    const dest = freshDest();
    const error = await wizardError(dest);
    expect(error).toBeInstanceOf(CrucibleError);
    expect((error as CrucibleError).exitCode).toBe(1);
    expect((error as CrucibleError).message).toMatch(/^the model did not return usable JSON for the project files, twice: the JSON does not have the expected shape \(files\.a\.js/);
    expect(fake.chatRequests()).toHaveLength(3);
    expect(existsSync(dest)).toBe(false);
  });

  it('refuses placeholder content before writing anything', async () => {
    script({ generation: [JSON.stringify({ files: projectFiles({ 'solution.js': 'export function double(x) {\n  // [your code here]\n}\n' }), summary: 's' })] });
    const dest = freshDest();
    const error = await wizardError(dest);
    expect((error as CrucibleError).message).toBe('the generated project was refused, nothing was written: solution.js holds placeholder text: "[your code here]"');
    expect(existsSync(dest)).toBe(false);
  });

  it.each([
    ['../escaped.js', 'leaves the project ("..")'],
    ['src/../../escaped.js', 'leaves the project ("..")'],
    ['/tmp/crucible-wizard-escaped.js', 'is an absolute path: files must stay inside the project'],
  ])('refuses a path outside the project (%s) before writing anything', async (file, why) => {
    script({ generation: [JSON.stringify({ files: projectFiles({ [file]: 'console.log("written where it should not be");\n' }), summary: 's' })] });
    const dest = freshDest();
    const error = await wizardError(dest);
    expect((error as CrucibleError).message).toBe(`the generated project was refused, nothing was written: ${JSON.stringify(file)} ${why}`);
    expect(existsSync(path.dirname(dest))).toBe(false);
    expect(existsSync(path.join(base, 'escaped.js'))).toBe(false);
    expect(existsSync('/tmp/crucible-wizard-escaped.js')).toBe(false);
  });

  it('refuses a folder that is not empty without asking the model anything', async () => {
    const dest = freshDest();
    mkdirSync(dest, { recursive: true });
    writeFileSync(path.join(dest, 'mine.txt'), 'mine\n');
    const error = await wizardError(dest);
    expect(error).toBeInstanceOf(ProjectError);
    expect((error as ProjectError).message).toBe(`${dest} is not empty; choose a new folder`);
    expect(fake.requests).toHaveLength(0);
    expect(readdirSync(dest)).toEqual(['mine.txt']);
  });

  it('leaves a project that fails validate for the user to fix, and says which check failed', async () => {
    const broken = EVALUATE.replace('`score: ${score}`', '`points: ${score}`');
    script({ generation: [JSON.stringify({ files: projectFiles({ 'evaluate.js': broken }), summary: 's' })] });
    const dest = freshDest();
    const result = await runWizard(options(dest), deps());
    expect(result.passed).toBe(false);
    expect(result.checks.find((check) => check.status === 'fail')?.name).toBe('Eval/metric');
    expect(readFileSync(path.join(dest, 'evaluate.js'), 'utf8')).toBe(broken);
  });
});

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, env: { PATH: process.env['PATH'], HOME: base, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

describe('crucible wizard (the built CLI)', () => {
  const apiFlags = (): string[] => ['--agent', 'api', '--provider', 'openai-compatible', '--base-url', fake.url, '--model', 'fake-model'];

  it('with --yes: creates the project, shows its files, the summary and the next steps', async () => {
    script();
    const dest = freshDest();
    mkdirSync(path.dirname(dest), { recursive: true });
    const result = await runCli(['wizard', 'project', '--describe', 'Make double(x) return 2x', '--yes', ...apiFlags()], path.dirname(dest));
    expect(result.stderr).toContain('Open questions, answered with the recommended choice (--yes):\n  How many test inputs? ten');
    expect(result.stderr).toContain('[PASS] Eval/metric: score: 10');
    expect(result.stderr).toContain('Created project (7 files):\n  .crucible/config.yaml\n');
    expect(result.stderr).toContain('Summary: Make double() correct; scored on ten inputs.');
    expect(result.stderr).toContain('Next steps:\n  cd project\n  crucible run --tag run1');
    expect(result.code).toBe(0);
    // The environment was really detected on this machine.
    expect(String(fake.chatRequests()[0]?.messages?.at(-1)?.content)).toContain(`Node.js: ${process.version}`);
    // The installed setup skill reached the model, not the short fallback: the bundled command
    // finds the package's files from a chunk in dist/cli/chunks/.
    expect(JSON.stringify(fake.chatRequests().find(isGenerate)?.messages?.[0]?.content)).toContain('## 3. The hidden evaluation harness');
  });

  it('without a terminal: never prompts, takes the recommended answers', async () => {
    script();
    const dest = freshDest();
    mkdirSync(path.dirname(dest), { recursive: true });
    const result = await runCli(['wizard', dest, '--describe', 'Make double(x) return 2x', ...apiFlags()], base);
    expect(result.stderr).toContain('answered with the recommended choice (no terminal)');
    expect(result.stderr).not.toContain('Choose 1-2');
    expect(result.code).toBe(0);
    expect(existsSync(path.join(dest, 'evaluate.js'))).toBe(true);
  });

  it('exits 1 when the project fails validate, naming the check, with the files left in place', async () => {
    script({ generation: [JSON.stringify({ files: projectFiles({ 'evaluate.js': EVALUATE.replace("import { double } from './solution.js';", "import { double } from './missing.js';") }), summary: 's' })] });
    const dest = freshDest();
    const result = await runCli(['wizard', dest, '--describe', 'x', '--yes', ...apiFlags()], base);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('[FAIL] Run command');
    expect(result.stderr).toMatch(/error: the generated project does not pass validate \(Run command\); its files are left in .* for you to fix, then run: crucible validate/);
    expect(existsSync(path.join(dest, '.crucible/config.yaml'))).toBe(true);
  });

  it('refuses a folder that is not empty (exit 4) and a missing description (exit 2)', async () => {
    const dest = freshDest();
    mkdirSync(dest, { recursive: true });
    writeFileSync(path.join(dest, 'mine.txt'), 'mine\n');
    const full = await runCli(['wizard', dest, '--describe', 'x', '--yes', ...apiFlags()], base);
    expect(full.code).toBe(4);
    expect(full.stderr).toContain('is not empty; choose a new folder');
    const undescribed = await runCli(['wizard', freshDest(), '--yes', ...apiFlags()], base);
    expect(undescribed.code).toBe(2);
    expect(undescribed.stderr).toContain('wizard needs a description');
    expect(fake.requests).toHaveLength(0);
  });
});
