/** Which agent backends this build has, and how to make one from `agent.type`. */
import type { AgentType, Config } from '../config/schema.js';
import { checkExhaustive } from '../errors.js';
import { createCommandBackend, type CommandBackendOptions } from './command-backend.js';
import { createTunerBackend } from './tuner/backend.js';
import type { AgentBackend } from './types.js';

export interface AgentBackendOptions extends CommandBackendOptions {
  /** The resolved agent section of the config (model, provider, endpoint, ...). */
  agentConfig?: Config['agent'];
}

/**
 * A backend whose implementation (and its heavy SDK) is imported only when it is first used, so
 * that `crucible status` and the offline agents never pay for it.
 */
export function lazyBackend(name: string, load: () => Promise<AgentBackend>): AgentBackend {
  let loaded: Promise<AgentBackend> | undefined;
  const get = (): Promise<AgentBackend> => (loaded ??= load());
  return {
    name,
    propose: async (request, signal) => (await get()).propose(request, signal),
    preflight: async (signal) => {
      const backend = await get();
      await backend.preflight?.(signal);
    },
  };
}

const builders = {
  tuner: () => createTunerBackend(),
  command: (options: AgentBackendOptions) => createCommandBackend(options),
  'claude-code': (options: AgentBackendOptions) =>
    lazyBackend('claude-code', async () => (await import('./claude-code/backend.js')).createClaudeCodeBackend(options)),
  api: (options: AgentBackendOptions) => lazyBackend('api', async () => (await import('./api/api-backend.js')).createApiBackend(options)),
} satisfies Record<AgentType, (options: AgentBackendOptions) => AgentBackend>;

/** The agent types this build can run. */
export const agentTypesAvailable: readonly AgentType[] = Object.keys(builders) as (keyof typeof builders)[];

export function createAgentBackend(type: AgentType, options: AgentBackendOptions = {}): AgentBackend {
  switch (type) {
    case 'tuner':
    case 'command':
    case 'claude-code':
    case 'api':
      return builders[type](options);
    default:
      return checkExhaustive(type);
  }
}
