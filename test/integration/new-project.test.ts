import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMarkers } from '../../src/agents/tuner/marker.js';
import { parseConfigText } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { ProjectError, UsageError } from '../../src/errors.js';
import { examplesDir, listExamples } from '../../src/project/examples.js';
import { createFromExample, createScaffold } from '../../src/project/new-project.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'crucible-new-'));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** Every file under `dir`, relative with "/" separators, sorted. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      return entry.isDirectory() ? listFiles(path.join(dir, entry.name), rel) : [rel];
    })
    .sort();
}

function runShell(command: string, cwd: string) {
  return spawnSync('/bin/sh', ['-c', command], { cwd, encoding: 'utf8', timeout: 30_000 });
}

describe('bundled examples', () => {
  it('lists optimize-sorting with its metric, sorted by name', () => {
    const examples = listExamples();
    expect(examples.find((e) => e.name === 'optimize-sorting')).toMatchObject({
      metric: 'ops_per_sec',
      direction: 'maximize',
      description: expect.stringMatching(/sort/i) as unknown,
    });
    const names = examples.map((e) => e.name);
    expect(names).toEqual([...names].sort());
  });

  it('finds the examples folder at the package root', () => {
    expect(examplesDir()).toBe(path.join(repoRoot, 'examples'));
  });

  it('finds the same folder from the built layout (dist/project/)', () => {
    // Build examples.ts (and the package-root finder it uses) the way tsc would into
    // <pkg>/dist/project/, then ask the built module.
    const pkg = path.join(tmp, 'pkg');
    mkdirSync(path.join(pkg, 'dist', 'project'), { recursive: true });
    mkdirSync(path.join(pkg, 'examples', 'demo', '.crucible'), { recursive: true });
    writeFileSync(path.join(pkg, 'package.json'), '{"name":"autocrucible","type":"module"}\n');
    // As in dist/cli/: a package.json that only sets the module type is not the package's.
    writeFileSync(path.join(pkg, 'dist', 'package.json'), '{"type":"module"}\n');
    writeFileSync(path.join(pkg, 'examples', 'demo', '.crucible', 'config.yaml'), 'metric: {name: m, direction: minimize}\n');
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
    for (const name of ['examples', 'package-root']) {
      const source = readFileSync(path.join(repoRoot, 'src', 'project', `${name}.ts`), 'utf8');
      const built = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      });
      writeFileSync(path.join(pkg, 'dist', 'project', `${name}.js`), built.outputText);
    }
    const script = `import { examplesDir, listExamples } from './dist/project/examples.js';
console.log(JSON.stringify({ dir: examplesDir(), names: listExamples().map((e) => e.name) }));`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: pkg, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ dir: path.join(pkg, 'examples'), names: ['demo'] });
  });

  it('has a config that the real config loader accepts', () => {
    for (const example of listExamples()) {
      const text = readFileSync(path.join(examplesDir(), example.name, '.crucible', 'config.yaml'), 'utf8');
      const result = parseConfigText(text, `${example.name}/.crucible/config.yaml`);
      expect(result).toMatchObject({ ok: true, warnings: [] });
    }
  });
});

describe('createFromExample', () => {
  it('copies the example into a new folder and says what it wrote', () => {
    const dest = path.join(tmp, 'my-sorting');
    const created = createFromExample(dest, 'optimize-sorting');
    expect(created.dest).toBe(dest);
    expect(created.files).toEqual(listFiles(dest));
    expect(created.files).toEqual(
      expect.arrayContaining(['.crucible/config.yaml', '.crucible/program.md', '.gitignore', 'README.md', 'benchmark.js', 'sort.js']),
    );
    const source = path.join(examplesDir(), 'optimize-sorting');
    for (const file of created.files) {
      expect(readFileSync(path.join(dest, file), 'utf8')).toBe(readFileSync(path.join(source, file), 'utf8'));
    }
  });

  it('accepts an existing empty folder', () => {
    const dest = path.join(tmp, 'empty');
    mkdirSync(dest);
    expect(createFromExample(dest, 'optimize-sorting').files).toContain('sort.js');
  });

  it('leaves out the outputs of earlier runs', () => {
    const examples = path.join(tmp, 'examples');
    const demo = path.join(examples, 'demo');
    for (const dir of ['.crucible/runs/run1', 'node_modules/pkg', 'lib']) mkdirSync(path.join(demo, dir), { recursive: true });
    const files: Record<string, string> = {
      '.crucible/config.yaml': 'metric: {name: m, direction: minimize}\n',
      '.crucible/program.md': 'go\n',
      '.crucible/runs/run1/ledger.jsonl': '{}\n',
      'node_modules/pkg/index.js': '',
      'lib/util.js': 'export {};\n',
      'results.tsv': 'commit\n',
      'run.log': 'm: 1\n',
      'main.js': '',
    };
    for (const [file, content] of Object.entries(files)) writeFileSync(path.join(demo, file), content);

    const dest = path.join(tmp, 'out');
    const created = createFromExample(dest, 'demo', { examplesDir: examples });
    // npm drops .gitignore from the package, so an installed example has none: one is written.
    expect(created.files).toEqual(['.crucible/config.yaml', '.crucible/program.md', '.gitignore', 'lib/util.js', 'main.js']);
    expect(listFiles(dest)).toEqual(created.files);
    expect(readFileSync(path.join(dest, '.gitignore'), 'utf8').split('\n')).toEqual(
      expect.arrayContaining(['run.log', 'results.tsv', '.crucible/runs/']),
    );
  });

  it('refuses a folder that is not empty and writes nothing', () => {
    const dest = path.join(tmp, 'busy');
    mkdirSync(dest);
    writeFileSync(path.join(dest, 'notes.txt'), 'mine');
    expect(() => createFromExample(dest, 'optimize-sorting')).toThrow(new ProjectError(`${dest} is not empty; choose a new folder`));
    expect(listFiles(dest)).toEqual(['notes.txt']);
    expect(readFileSync(path.join(dest, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('refuses a destination that is a file', () => {
    const dest = path.join(tmp, 'file');
    writeFileSync(dest, 'mine');
    expect(() => createFromExample(dest, 'optimize-sorting')).toThrow(ProjectError);
    expect(readFileSync(dest, 'utf8')).toBe('mine');
  });

  it('names the available examples when the name is unknown, and writes nothing', () => {
    const dest = path.join(tmp, 'x');
    const available = listExamples().map((e) => e.name).join(', ');
    expect(() => createFromExample(dest, 'optimize-nothing')).toThrow(
      new UsageError(`unknown example "optimize-nothing"; available: ${available}`),
    );
    expect(() => createFromExample(dest, 'optimize-nothing')).toThrow(UsageError);
    expect(() => createFromExample(dest, '../examples')).toThrow(UsageError);
    expect(existsSync(dest)).toBe(false);
  });
});

describe('createScaffold', () => {
  it('writes an empty Node project named after its folder', () => {
    const dest = path.join(tmp, 'my-experiment');
    const created = createScaffold(dest);
    expect(created).toEqual({
      dest,
      files: ['.crucible/config.yaml', '.crucible/program.md', '.gitignore', 'evaluate.js', 'package.json', 'solution.js'],
    });
    expect(listFiles(dest)).toEqual(created.files);
    const result = parseConfigText(readFileSync(path.join(dest, '.crucible', 'config.yaml'), 'utf8'), 'config.yaml');
    expect(result).toMatchObject({ ok: true, warnings: [] });
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      name: 'my-experiment',
      files: { editable: ['solution.js'], hidden: ['evaluate.js'] },
      metric: { name: 'score', direction: 'maximize' },
    });
    // One constant the offline tuner can change, so `--agent tuner` works out of the box.
    const scan = parseMarkers(readFileSync(path.join(dest, 'solution.js'), 'utf8'), 'solution.js');
    expect(scan.problems).toEqual([]);
    expect(scan.markers).toHaveLength(1);
  });

  it('uses the name it is given, quoted safely', () => {
    const dest = path.join(tmp, 'x');
    createScaffold(dest, { name: 'Fast "thing": #1' });
    const result = parseConfigText(readFileSync(path.join(dest, '.crucible', 'config.yaml'), 'utf8'), 'config.yaml');
    expect(result.ok && result.config.name).toBe('Fast "thing": #1');
  });

  it('shows every optional key, commented out with its default', () => {
    createScaffold(path.join(tmp, 'p'));
    const text = readFileSync(path.join(tmp, 'p', '.crucible', 'config.yaml'), 'utf8');
    // Uncomment the lines that hold a key; the result must still be a valid config with the defaults.
    const uncommented = text.replace(/^(\s*)# (\s*[a-z_]+:.*)$/gm, '$1$2');
    expect(uncommented).not.toBe(text);
    const result = parseConfigText(uncommented, 'config.yaml');
    expect(result).toMatchObject({ ok: true, warnings: [] });
    if (!result.ok) return;
    const defaults = configSchema.parse({
      name: 'p',
      files: { editable: ['solution.js'], hidden: ['evaluate.js'] },
      commands: { run: result.config.commands.run, eval: result.config.commands.eval },
      metric: { name: 'score', direction: 'maximize' },
    });
    expect(result.config).toEqual(defaults);
    for (const key of keyPaths(defaults)) expect(uncommented, key).toMatch(new RegExp(`^\\s*${key.split('.').pop()!}:`, 'm'));
  });

  it('runs its own experiment: the run and eval commands print a score line', () => {
    const dest = path.join(tmp, 'p');
    createScaffold(dest);
    const config = parseConfigText(readFileSync(path.join(dest, '.crucible', 'config.yaml'), 'utf8'), 'config.yaml');
    if (!config.ok) throw new Error(config.errors.join('\n'));
    expect(runShell(config.config.commands.run, dest).status).toBe(0);
    const evaluated = runShell(config.config.commands.eval, dest);
    expect(evaluated.status).toBe(0);
    expect(evaluated.stdout).toMatch(/^score: -?\d+(\.\d+)?$/m);
  });

  it('refuses a folder that is not empty and writes nothing', () => {
    const dest = path.join(tmp, 'busy');
    mkdirSync(path.join(dest, '.crucible'), { recursive: true });
    expect(() => createScaffold(dest)).toThrow(new ProjectError(`${dest} is not empty; choose a new folder`));
    expect(readdirSync(dest)).toEqual(['.crucible']);
    expect(readdirSync(path.join(dest, '.crucible'))).toEqual([]);
  });
});

/** "constraints.timeout_seconds", ... : the dotted paths of every leaf of a resolved config. */
function keyPaths(value: object, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, child]) => {
    const here = prefix === '' ? key : `${prefix}.${key}`;
    // metric.min_improvement is written as one value ("2%" or 0.01), parsed into { kind, value }.
    const leaf = here === 'metric.min_improvement';
    return !leaf && child !== null && typeof child === 'object' && !Array.isArray(child) ? keyPaths(child as object, here) : [here];
  });
}
