import { existsSync, readFileSync } from 'node:fs';
import { directions, type Direction } from './constants.js';
import { ConfigError } from '../errors.js';
import { scanEssentials } from './scan-essentials.js';

/** What the read-only commands need of the config. */
export interface ConfigEssentials {
  name: string;
  description: string;
  metric: { name: string; direction: Direction };
  git: { branch_prefix: string };
}

/**
 * The few keys `status`, `history`, `compare` and `postmortem` need, without loading the whole
 * schema (zod's start-up alone is ~50 ms of a command that should feel instant). Anything
 * unexpected falls back to the full loader, so errors read exactly as everywhere else.
 */
export async function readConfigEssentials(projectDir: string): Promise<ConfigEssentials> {
  const file = `${projectDir}/.crucible/config.yaml`;
  if (existsSync(file)) {
    try {
      const text = readFileSync(file, 'utf8');
      // The YAML parser loads only for a file the scan is not sure of (scan-essentials.ts).
      const essentials = pick(scanEssentials(text) ?? ((await import('yaml')).parse(text) as unknown));
      if (essentials) return essentials;
    } catch {
      // A YAML error: the full loader says where.
    }
  }
  const { loadConfig } = await import('./load.js');
  const loaded = loadConfig(projectDir);
  if (!loaded.ok) throw new ConfigError(loaded.errors);
  return loaded.config;
}

function pick(raw: unknown): ConfigEssentials | null {
  const doc = raw as { name?: unknown; description?: unknown; metric?: { name?: unknown; direction?: unknown }; git?: { branch_prefix?: unknown } } | null;
  if (typeof doc !== 'object' || doc === null) return null;
  const { name, metric, git } = doc;
  if (typeof name !== 'string' || name.trim() === '' || typeof metric?.name !== 'string' || metric.name.trim() === '') return null;
  if (!(directions as readonly unknown[]).includes(metric.direction)) return null;
  const prefix = git?.branch_prefix ?? 'crucible';
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9._\-/]+$/.test(prefix)) return null;
  return {
    name: name.trim(),
    description: typeof doc.description === 'string' ? doc.description : '',
    metric: { name: metric.name.trim(), direction: metric.direction as Direction },
    git: { branch_prefix: prefix },
  };
}
