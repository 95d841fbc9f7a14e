/**
 * The example projects bundled with crucible: where they are and what each one optimises.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { Direction } from '../config/schema.js';
import { packageRoot } from './package-root.js';

export interface ExampleInfo {
  /** The folder name, which `crucible new --example` takes. */
  name: string;
  description: string;
  metric: string;
  direction: Direction;
}

/** The bundled examples folder: the package ships examples/ at its root. */
export function examplesDir(): string {
  return path.join(packageRoot(), 'examples');
}

/** Every bundled example, sorted by name. A folder without a readable config is not an example. */
export function listExamples(dir: string = examplesDir()): ExampleInfo[] {
  if (!existsSync(dir)) {
    // The package always ships the folder: its absence means a broken install, not bad input.
    throw new Error(`bundled examples folder not found: ${dir}`);
  }
  const examples: ExampleInfo[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const info = readExampleInfo(path.join(dir, entry.name), entry.name);
    if (info !== null) examples.push(info);
  }
  return examples.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function readExampleInfo(folder: string, name: string): ExampleInfo | null {
  const file = path.join(folder, '.crucible', 'config.yaml');
  if (!existsSync(file)) return null;
  const raw: unknown = parse(readFileSync(file, 'utf8'));
  if (!isRecord(raw) || !isRecord(raw['metric'])) return null;
  const metric = raw['metric'];
  const metricName = metric['name'];
  const direction = metric['direction'];
  if (typeof metricName !== 'string' || (direction !== 'minimize' && direction !== 'maximize')) return null;
  const description = raw['description'];
  return { name, description: typeof description === 'string' ? description : '', metric: metricName, direction };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
