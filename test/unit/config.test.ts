import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { renderConfigJsonSchema } from '../../src/config/json-schema.js';

const minimal = `
name: demo
files:
  editable: [train.py]
commands:
  run: python train.py > run.log 2>&1
  eval: grep '^loss:' run.log
metric:
  name: loss
  direction: minimize
`;

function load(text: string) {
  return parseConfigText(text, '.crucible/config.yaml');
}

function errorsOf(text: string): string[] {
  const result = load(text);
  if (result.ok) throw new Error('expected the config to be rejected');
  return result.errors;
}

describe('config defaults', () => {
  it('fills every optional key of the README with its default', () => {
    const result = load(minimal);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { config } = result;
    expect(config.description).toBe('');
    expect(config.files).toEqual({ editable: ['train.py'], readonly: [], hidden: [], shared: ['.venv', 'node_modules'] });
    expect(config.commands.setup).toBeNull();
    expect(config.constraints).toEqual({ timeout_seconds: 600, max_retries: 3, max_iterations: null, max_cost_usd: null, max_cost_per_trial_usd: null, max_wall_time: null });
    expect(config.agent.type).toBe('claude-code');
    expect(config.agent.instructions).toBe('program.md');
    expect(config.agent.system_prompt).toBeNull();
    expect(config.agent.context_window).toEqual({ include_history: true, history_limit: 20, include_best: true });
    expect(config.git).toEqual({ branch_prefix: 'crucible', tag_failed: true });
    expect(result.warnings).toEqual([]);
    expect(config.parallel).toEqual({ workers: 1, agents: null, gpus: null, gpus_per_trial: 1 });
  });

  it('accepts the full README example', () => {
    const result = load(`
name: "experiment-name"
files:
  editable: ["train.py"]
  readonly: ["data.py"]
  hidden: ["evaluate.py"]
commands:
  run: "python train.py > run.log 2>&1"
  eval: "grep '^metric:' run.log"
  setup: "pip install -r requirements.txt"
metric:
  name: "metric"
  direction: "minimize"
description: ""
constraints:
  timeout_seconds: 600
  max_retries: 3
agent:
  type: "claude-code"
  instructions: "program.md"
  system_prompt: "system.md"
  context_window:
    include_history: true
    history_limit: 20
    include_best: true
git:
  branch_prefix: "crucible"
  tag_failed: true
`);
    expect(result.ok).toBe(true);
  });
});

describe('config errors: one line naming file, line and key', () => {
  it.each([
    ['a missing required key', minimal.replace('  direction: minimize\n', ''), '.crucible/config.yaml:8: metric.direction: required key is missing'],
    ['a bad direction', minimal.replace('direction: minimize', 'direction: up'), '.crucible/config.yaml:10: metric.direction: must be "minimize" or "maximize", got "up"'],
    ['an empty editable list', minimal.replace('editable: [train.py]', 'editable: []'), '.crucible/config.yaml:4: files.editable: must list at least one file'],
    ['a string where a list belongs', minimal.replace('editable: [train.py]', 'editable: train.py'), '.crucible/config.yaml:4: files.editable: must be a list, got "train.py"'],
    ['a wrong type', `${minimal}constraints:\n  timeout_seconds: abc\n`, '.crucible/config.yaml:12: constraints.timeout_seconds: must be a number, got "abc"'],
    ['a negative timeout', `${minimal}constraints:\n  timeout_seconds: -1\n`, '.crucible/config.yaml:12: constraints.timeout_seconds: must be greater than 0, got -1'],
    ['a fractional retry count', `${minimal}constraints:\n  max_retries: 1.5\n`, '.crucible/config.yaml:12: constraints.max_retries: must be a whole number, got 1.5'],
    ['an absolute path', minimal.replace('editable: [train.py]', 'editable: [/etc/passwd]'), '.crucible/config.yaml:4: files.editable.0: "/etc/passwd" must be relative to the project root'],
    ['a path leaving the project', minimal.replace('editable: [train.py]', 'editable: [../x.py]'), '.crucible/config.yaml:4: files.editable.0: "../x.py" must not leave the project folder'],
    ['a file in two categories', minimal.replace('editable: [train.py]', 'editable: [train.py]\n  hidden: [train.py]'), '.crucible/config.yaml:5: files.hidden.0: "train.py" is also listed in files.editable'],
    ['crucible\'s own folder as editable', minimal.replace('editable: [train.py]', 'editable: [.crucible/config.yaml]'), '.crucible/config.yaml:4: files.editable.0: ".crucible/config.yaml" is crucible\'s own folder and cannot be editable'],
    ['a command agent without a command', `${minimal}agent:\n  type: command\n`, '.crucible/config.yaml:11: agent.command: required when agent.type is "command" (the shell command that edits the code)'],
    ['an unknown agent type', `${minimal}agent:\n  type: gpt\n`, '.crucible/config.yaml:12: agent.type: must be "claude-code" or "api" or "command" or "tuner", got "gpt"'],
  ])('%s', (_name, text, expected) => {
    expect(errorsOf(text)).toContain(expected);
  });

  it('reports YAML syntax errors with line and column, no stack', () => {
    const errors = errorsOf('name: x\nfiles: [a\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^\.crucible\/config\.yaml:\d+:\d+: YAML syntax error: /);
    expect(errors[0]).not.toContain('\n');
  });

  it.each([
    ['an empty file', ''],
    ['a list', '- a\n- b\n'],
    ['a scalar', 'hello\n'],
  ])('rejects %s as not a mapping', (_name, text) => {
    expect(errorsOf(text)[0]).toMatch(/^\.crucible\/config\.yaml: must be a YAML mapping of keys/);
  });

  it('reports duplicate keys', () => {
    expect(errorsOf(`${minimal}name: again\n`)[0]).toMatch(/^\.crucible\/config\.yaml:\d+:\d+: YAML syntax error: .*unique/);
  });

  it('never puts a newline inside a message', () => {
    for (const text of ['', 'a: [', minimal.replace('name: demo', 'name: ""'), `${minimal}agent: 3\n`]) {
      const result = load(text);
      const lines = result.ok ? [] : result.errors;
      for (const line of lines) expect(line).not.toContain('\n');
    }
  });
});

describe('files in two categories', () => {
  it.each([
    ['readonly and editable', 'editable: [train.py]\n  readonly: [train.py]', '.crucible/config.yaml:5: files.readonly.0: "train.py" is also listed in files.editable'],
    ['hidden and editable', 'editable: [train.py]\n  hidden: [./train.py]', '.crucible/config.yaml:5: files.hidden.0: "./train.py" is also listed in files.editable'],
  ])('%s is refused', (_name, files, expected) => {
    expect(errorsOf(minimal.replace('editable: [train.py]', files))).toEqual([expected]);
  });

  it('readonly and hidden is accepted as hidden, with a warning naming the file', () => {
    const result = load(minimal.replace('editable: [train.py]', 'editable: [train.py]\n  readonly: [data.csv, ./eval.py]\n  hidden: [eval.py]'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.warnings).toEqual(['.crucible/config.yaml:6: files.hidden.0: "eval.py" is also listed in files.readonly; it is hidden (the agent cannot read it)']);
    expect(result.config.files).toEqual({ editable: ['train.py'], readonly: ['data.csv'], hidden: ['eval.py'], shared: ['.venv', 'node_modules'] });
  });
});

describe('durations and budgets', () => {
  it.each([
    ['90', 90],
    ['45m', 2700],
    ['8h', 28800],
    ['1.5d', 129600],
  ])('max_wall_time %s is %d seconds', (value, seconds) => {
    const result = load(`${minimal}constraints:\n  max_wall_time: "${value}"\n`);
    expect(result.ok && result.config.constraints.max_wall_time).toBe(seconds);
  });

  it('rejects a duration it cannot read, naming the key', () => {
    expect(errorsOf(`${minimal}constraints:\n  max_wall_time: soon\n`)[0]).toMatch(/^\.crucible\/config\.yaml:12: constraints\.max_wall_time: /);
  });
});

describe('unknown keys', () => {
  it('warns and names the closest valid key, and still loads', () => {
    const result = load(`${minimal}agent:\n  contxt_window:\n    history_limit: 5\ncontraints:\n  max_retries: 2\n`);
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual([
      '.crucible/config.yaml:12: unknown key "agent.contxt_window" is ignored (did you mean "agent.context_window"?)',
      '.crucible/config.yaml:14: unknown key "contraints" is ignored (did you mean "constraints"?)',
    ]);
  });

  it('gives no suggestion when nothing is close', () => {
    const result = load(`${minimal}zebra: 1\n`);
    expect(result.warnings).toEqual(['.crucible/config.yaml:11: unknown key "zebra" is ignored']);
  });
});

describe('JSON Schema', () => {
  it('schema/crucible.schema.json is up to date with the zod schema (run `npm run schema`)', () => {
    const committed = readFileSync(new URL('../../schema/crucible.schema.json', import.meta.url), 'utf8');
    expect(committed).toBe(renderConfigJsonSchema());
  });

  it('documents every key of the README config reference', () => {
    const schema = JSON.parse(renderConfigJsonSchema()) as { properties: Record<string, { properties?: Record<string, unknown> }> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['name', 'description', 'files', 'commands', 'metric', 'constraints', 'agent', 'git']));
    expect(Object.keys(schema.properties['agent']!.properties!)).toEqual(
      expect.arrayContaining(['type', 'instructions', 'system_prompt', 'context_window']),
    );
  });
});
