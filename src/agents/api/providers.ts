/**
 * `agent.type: api`: which endpoint, model and key the config names, and the AI SDK model object
 * that talks to it. Settings are resolved from the config and the environment alone (never
 * from the SDKs' own environment lookups), so what crucible checks is what it uses.
 */
import type { LanguageModel } from 'ai';
import type { Config, Provider } from '../../config/schema.js';
import { AgentError } from '../../errors.js';

export interface ApiSettings {
  provider: Provider;
  model: string;
  /** The API's base URL, with /v1 where the API has it, without a trailing slash. */
  baseUrl: string;
  /** True when the user set agent.base_url (so messages about the endpoint can point at it). */
  customBaseUrl: boolean;
  apiKey: string | undefined;
  /** The environment variable the key comes from; null when the endpoint needs none. */
  keyVariable: string | null;
}

const DEFAULT_BASE_URL: Record<Provider, string | null> = {
  anthropic: 'https://api.anthropic.com/v1',
  openai: 'https://api.openai.com/v1',
  'openai-compatible': null,
};

const DEFAULT_KEY_VARIABLE: Record<Provider, string | null> = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  // A local server (Ollama, llama.cpp) usually wants no key; OpenAI's key must not leak to it.
  'openai-compatible': null,
};

/** Reads agent.provider, model, base_url and api_key_env; AgentError('fatal') says what is missing. */
export function resolveApiSettings(agent: Config['agent'], env: NodeJS.ProcessEnv): ApiSettings {
  const provider = agent.provider;
  if (agent.model === null) {
    throw new AgentError('fatal', `agent.model is required for agent.type "api" (provider ${provider}), e.g. ${exampleModel(provider)}; or pass --model`);
  }
  const baseUrl = agent.base_url ?? DEFAULT_BASE_URL[provider];
  if (baseUrl === null) {
    throw new AgentError('fatal', `agent.base_url is required for provider "openai-compatible", e.g. http://localhost:11434/v1 for Ollama`);
  }
  if (!/^https?:\/\/[^\s/]+/i.test(baseUrl)) {
    throw new AgentError('fatal', `agent.base_url must be an http:// or https:// URL, got "${baseUrl}"`);
  }
  const keyVariable = agent.api_key_env ?? DEFAULT_KEY_VARIABLE[provider];
  const apiKey = keyVariable === null ? undefined : env[keyVariable]?.trim();
  if (keyVariable !== null && !apiKey) {
    throw new AgentError('fatal', `agent.api_key_env: environment variable ${keyVariable} is not set`);
  }
  return { provider, model: agent.model, baseUrl: baseUrl.replace(/\/+$/, ''), customBaseUrl: agent.base_url !== null, apiKey: apiKey || undefined, keyVariable };
}

/** Names the credential a 401/403 rejected, and what to do, for classifyAgentError. */
export function credentialContext(settings: ApiSettings): { credentials: string; authHint?: string } {
  return settings.keyVariable === null
    ? { credentials: `a request without an API key to ${settings.baseUrl}`, authHint: 'set agent.api_key_env to the environment variable that holds its key' }
    : { credentials: `agent.api_key_env: the key in ${settings.keyVariable}` };
}

/** The AI SDK model for these settings; the provider packages are imported only here. */
export async function createLanguageModel(settings: ApiSettings): Promise<LanguageModel> {
  const { provider, baseUrl, apiKey, model } = settings;
  switch (provider) {
    case 'anthropic': {
      const { createAnthropic } = await import('@ai-sdk/anthropic');
      return createAnthropic({ baseURL: baseUrl, apiKey: apiKey ?? '' })(model);
    }
    case 'openai': {
      const { createOpenAI } = await import('@ai-sdk/openai');
      // Chat Completions rather than the Responses API: the one wire format every endpoint shares.
      return createOpenAI({ baseURL: baseUrl, apiKey: apiKey ?? '' }).chat(model);
    }
    case 'openai-compatible': {
      const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
      return createOpenAICompatible({ name: 'openai-compatible', baseURL: baseUrl, ...(apiKey ? { apiKey } : {}), includeUsage: true })(model);
    }
  }
}

function exampleModel(provider: Provider): string {
  if (provider === 'anthropic') return 'agent.model: claude-sonnet-4-6';
  if (provider === 'openai') return 'agent.model: gpt-5.5';
  return 'agent.model: qwen3:8b';
}
