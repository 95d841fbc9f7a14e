import { z } from 'zod';
import { configSchema } from './schema.js';

/** JSON Schema of what users write (defaults are optional keys), for editor completion. */
export function buildConfigJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { ...schema, title: 'crucible config (.crucible/config.yaml)' };
}

export function renderConfigJsonSchema(): string {
  return `${JSON.stringify(buildConfigJsonSchema(), null, 2)}\n`;
}
