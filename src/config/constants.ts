/**
 * The config's fixed vocabularies, apart from the zod schema so that the command line can name
 * them without loading zod (start-up time of read-only commands such as `crucible status`).
 */
export const agentTypes = ['claude-code', 'api', 'command', 'tuner'] as const;
export type AgentType = (typeof agentTypes)[number];

export const directions = ['minimize', 'maximize'] as const;
export type Direction = (typeof directions)[number];

export const providers = ['anthropic', 'openai', 'openai-compatible'] as const;
export type Provider = (typeof providers)[number];
