import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfigEssentials } from '../../src/config/read-essentials.js';
import { ConfigError } from '../../src/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function projectWith(config: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-essentials-'));
  dirs.push(dir);
  mkdirSync(path.join(dir, '.crucible'));
  writeFileSync(path.join(dir, '.crucible', 'config.yaml'), config);
  return dir;
}

const valid = 'name: demo\nfiles: {editable: [a.js]}\ncommands: {run: "true", eval: "true"}\nmetric: {name: score, direction: maximize}\n';

describe('readConfigEssentials (the read commands\' fast path)', () => {
  it('reads what status and history need, with the branch prefix default', async () => {
    expect(await readConfigEssentials(projectWith(valid))).toEqual({
      name: 'demo',
      description: '',
      metric: { name: 'score', direction: 'maximize' },
      git: { branch_prefix: 'crucible' },
    });
  });

  it('reports a broken config exactly as the full loader does', async () => {
    const dir = projectWith(valid.replace('direction: maximize', 'direction: up'));
    const error = await readConfigEssentials(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems[0]).toMatch(/config\.yaml:4: metric\.direction: must be "minimize" or "maximize", got "up"$/);
  });
});
