import { configSchema, type Config } from '../../src/config/schema.js';

/** The agent section with every default filled in, as the config loader would produce it. */
export function agentConfigWith(overrides: Partial<Config['agent']> = {}): Config['agent'] {
  const config = configSchema.parse({
    name: 'test',
    files: { editable: ['x'] },
    commands: { run: 'true', eval: 'true' },
    metric: { name: 'm', direction: 'maximize' },
  });
  return { ...config.agent, ...overrides };
}
