import { describe, expect, it } from 'vitest';
import type { Analysis } from '../../src/project/wizard/analysis.js';
import { checkPath, completeGitignore, findPlaceholder, planProjectFiles } from '../../src/project/wizard/project-files.js';

const analysis: Analysis = {
  name: 'Double It',
  metric: { name: 'score', direction: 'maximize' },
  editable_files: ['solution.js'],
  language: 'node',
  timeout_seconds: 30,
  architecture_guards: [],
  uncertain: [],
};

const CONFIG = `name: double-it
files:
  editable: [solution.js]
  hidden: [evaluate.js]
commands:
  run: node evaluate.js
  eval: cat run.log
metric:
  name: score
  direction: maximize
`;

const PROJECT: Record<string, string> = {
  '.crucible/config.yaml': CONFIG,
  '.crucible/program.md': '# Goal\n\nMaximise score by making double() right.\n',
  'solution.js': 'export function double(x) {\n  return x + x;\n}\n',
  'evaluate.js': "import { double } from './solution.js';\nconsole.log(`score: ${double(2)}`);\n",
  'README.md': '# Double it\n\nA tiny crucible experiment.\n',
};

describe('checkPath', () => {
  it.each(['solution.js', 'src/model.py', '.crucible/config.yaml', '.gitignore', 'data/a b.csv'])('accepts %s', (file) => {
    expect(checkPath(file)).toBeNull();
  });

  it.each([
    ['../evil.js', /leaves the project/],
    ['src/../../evil.js', /leaves the project/],
    ['/etc/passwd', /absolute/],
    ['C:/x.js', /absolute/],
    ['~/.bashrc', /absolute/],
    ['a\\..\\b.js', /"\/"/],
    ['a//b.js', /plain relative/],
    ['./a/./b.js', /plain relative/],
    ['.git/hooks/pre-commit', /\.git/],
    ['.GIT/config', /\.git/],
    ['.crucible/runs/run1/ledger.jsonl', /records/],
    ['a\u0000b', /control/],
    ['', /usable/],
  ])('refuses %j', (file, why) => {
    expect(checkPath(file)).toMatch(why);
  });
});

describe('findPlaceholder', () => {
  it.each([
    ['solution.js', '...', true],
    ['solution.js', 'TODO', true],
    ['solution.js', '// TODO: implement the solver', true],
    ['evaluate.py', '<insert harness here>', true],
    ['solution.py', '[your code here]', true],
    ['solution.py', 'pass  # implement', true],
    ['solution.py', '# see above', true],
    ['solution.js', 'x = 1', true],
    ['solution.js', 'export function f() {\n  // [your code here]\n}\n', false],
    ['evaluate.js', 'const a = 1;\n// ... rest of the code unchanged\n', false],
    ['solution.py', 'def solve():\n    pass  # TODO implement\n', false],
    ['README.md', '# Title\n\n<insert description>\n', false],
  ])('refuses %s holding %j', (file, content, essential) => {
    expect(findPlaceholder(file, content, essential)).not.toBeNull();
  });

  it.each([
    ['solution.js', 'export function double(x) {\n  return x + x;\n}\n', true],
    ['src/__init__.py', '', false],
    ['data.json', '[1, 2, 3]', false],
    ['README.md', 'The rest of the code is yours to improve: keep it readable.\n', true],
    ['stub.py', 'class Base:\n    def run(self):\n        raise NotImplementedError\n', true],
  ])('accepts %s holding %j', (file, content, essential) => {
    expect(findPlaceholder(file, content, essential)).toBeNull();
  });
});

describe('planProjectFiles', () => {
  it('completes a sound project with a .gitignore and package.json, sorted', () => {
    const plan = planProjectFiles(PROJECT, analysis);
    expect(plan.problems).toEqual([]);
    expect(plan.files.map((f) => f.path)).toEqual(['.crucible/config.yaml', '.crucible/program.md', '.gitignore', 'README.md', 'evaluate.js', 'package.json', 'solution.js']);
    expect(plan.files.find((f) => f.path === '.gitignore')?.content).toBe('run.log\nresults.tsv\n.crucible/runs/\n.crucible/slots/\nnode_modules/\n');
    expect(JSON.parse(plan.files.find((f) => f.path === 'package.json')?.content ?? '')).toEqual({ name: 'double-it', private: true, type: 'module' });
  });

  it("keeps the model's .gitignore and package.json, adding only what crucible needs", () => {
    const plan = planProjectFiles({ ...PROJECT, '.gitignore': 'out/\nrun.log', 'package.json': '{ "type": "module", "name": "mine" }\n' }, analysis);
    expect(plan.files.find((f) => f.path === '.gitignore')?.content).toBe('out/\nrun.log\nresults.tsv\n.crucible/runs/\n.crucible/slots/\nnode_modules/\n');
    expect(plan.files.find((f) => f.path === 'package.json')?.content).toBe('{ "type": "module", "name": "mine" }\n');
    expect(completeGitignore(undefined, 'python')).toContain('__pycache__/\n*.pyc\n.venv/\n');
  });

  it('refuses, with every reason, a project with escaping paths, placeholders or missing files', () => {
    const { ['.crucible/program.md']: _program, ...rest } = PROJECT;
    const plan = planProjectFiles({ ...rest, '../outside.js': 'console.log("hi there, outside");', 'solution.js': '...' }, analysis);
    expect(plan.files).toEqual([]);
    expect(plan.problems).toEqual(expect.arrayContaining(['"../outside.js" leaves the project ("..")', '.crucible/program.md is missing', 'solution.js is a placeholder: "..."']));
  });

  it('refuses a config without a hidden harness, and files that clash', () => {
    const plan = planProjectFiles({ ...PROJECT, '.crucible/config.yaml': CONFIG.replace('  hidden: [evaluate.js]\n', ''), 'lib': 'export const a = 1; // a module', 'lib/x.js': 'export const x = 1; // a module', 'Readme.md': '# Another readme file here' }, analysis);
    expect(plan.problems).toEqual(
      expect.arrayContaining(['.crucible/config.yaml lists no hidden evaluation harness (files.hidden)', 'lib is both a file and the folder of lib/x.js', 'Readme.md and README.md differ only in case']),
    );
  });

  it('treats the files the config lists as essential: a tiny harness is refused', () => {
    const plan = planProjectFiles({ ...PROJECT, 'evaluate.js': 'print(1)' }, analysis);
    expect(plan.problems).toEqual(['evaluate.js is only "print(1)"']);
  });

  it('leaves a config that does not parse for validate to report', () => {
    const plan = planProjectFiles({ ...PROJECT, '.crucible/config.yaml': 'name: [unclosed\nfiles: {}\n' }, analysis);
    expect(plan.problems).toEqual([]);
  });
});
