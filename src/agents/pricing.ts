/**
 * What a proposal cost in US dollars, from its token counts and a price table, for providers that
 * report tokens but not money. The built-in table covers Anthropic and OpenAI models; the user's
 * `agent.pricing` wins over it, and a model found in neither has no price (null), which is what
 * a local model (Ollama, vLLM) should have unless the user gives one.
 */
import type { Config } from '../config/schema.js';
import type { AgentUsage } from './types.js';

/** US dollars per million tokens. */
export interface Price {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/**
 * Token counts as crucible records them: `inputTokens` is the uncached input only (Anthropic's
 * convention), cache reads and writes are counted apart, so no token is priced twice.
 */
export type TokenCounts = Pick<AgentUsage, 'inputTokens' | 'outputTokens' | 'cacheReadTokens' | 'cacheWriteTokens'>;

type Row = [input: number, output: number, cacheRead?: number, cacheWrite?: number];

/**
 * List prices per million tokens, read from the providers' pricing pages (late 2026). Cache reads
 * default to 10% of input and cache writes to 125% (Anthropic's 5-minute cache; OpenAI bills no
 * writes for automatic caching and reports none). Long-context and regional surcharges are not
 * modelled: set agent.pricing when they apply.
 */
const BUILT_IN: Record<string, Row> = {
  // Anthropic
  'claude-fable-5-1': [10, 50, 0.25, 12.5],
  'claude-mythos-5-1': [10, 50, 0.25, 12.5],
  'claude-fable-5': [10, 50, 1, 12.5],
  'claude-mythos-5': [10, 50, 1, 12.5],
  'claude-opus-5-5': [4, 20, 0.2, 5],
  'claude-opus-5': [5, 25],
  'claude-opus-4-8': [5, 25],
  'claude-opus-4-7': [5, 25],
  'claude-opus-4-6': [5, 25],
  'claude-opus-4-5': [5, 25],
  'claude-opus-4-1': [15, 75],
  'claude-opus-4': [15, 75],
  'claude-3-opus': [15, 75],
  'claude-sonnet-5-5': [2, 10, 0.1, 2.5],
  'claude-sonnet-5': [2, 10],
  'claude-sonnet-4-6': [3, 15],
  'claude-sonnet-4-5': [3, 15],
  'claude-sonnet-4': [3, 15],
  'claude-3-7-sonnet': [3, 15],
  'claude-3-5-sonnet': [3, 15],
  // Haiku 5.5: the price of prompts up to 100k tokens; longer ones cost five times as much.
  'claude-haiku-5-5': [0.1, 0.5, 0.01, 0.125],
  'claude-haiku-4-5': [1, 5],
  'claude-3-5-haiku': [0.8, 4],
  'claude-3-haiku': [0.25, 1.25, 0.03, 0.3],
  // OpenAI
  'gpt-6.1-sol': [2, 10, 0.1],
  'gpt-6-sol': [2, 10, 0.2],
  'gpt-6-luna': [0.1, 0.5, 0.01],
  'gpt-5.6-sol': [5, 30],
  'gpt-5.6-terra': [2.5, 15],
  'gpt-5.6-luna': [1, 6],
  'gpt-5.5': [5, 30],
  'gpt-5.4': [2.5, 15],
  'gpt-5.4-mini': [0.75, 4.5],
  'gpt-5.2': [1.75, 14],
  'gpt-5.1': [1.25, 10],
  'gpt-5.1-codex': [1.25, 10],
  'gpt-5': [1.25, 10],
  'gpt-5-codex': [1.25, 10],
  'gpt-5-mini': [0.25, 2],
  'gpt-5-nano': [0.05, 0.4],
  'gpt-5-pro': [15, 120, 15],
  'gpt-4.1': [2, 8, 0.5],
  'gpt-4.1-mini': [0.4, 1.6, 0.1],
  'gpt-4.1-nano': [0.1, 0.4, 0.025],
  'gpt-4o': [2.5, 10, 1.25],
  'gpt-4o-mini': [0.15, 0.6, 0.075],
  o3: [2, 8, 0.5],
  'o3-mini': [1.1, 4.4, 0.55],
  'o4-mini': [1.1, 4.4, 0.275],
  o1: [15, 60, 7.5],
};

/**
 * What may follow a known name and still be the same model: a date stamp, "-latest", a Bedrock
 * version ("-v1:0"), a tag after ":" or "@", Claude Code's "[1m]". Anything else ("-pro", ".3",
 * "-mini") is a different model, which gets no price rather than a wrong one.
 */
const SAME_MODEL_SUFFIX = /^(?:[-@]\d{8}|-\d{4}-\d{2}-\d{2}|-(?:chat-)?latest|-v\d+(?::\d+)?|:.*|\[1m\])*$/;

/** The price of `model`: the user's table first (exact name, then by prefix), then the built-in one. */
export function findPrice(model: string, overrides: Config['agent']['pricing'] = {}): Price | null {
  const exact = overrides[model];
  if (exact) return fromOverride(exact);
  const userKey = matchName(model, Object.keys(overrides));
  const user = userKey === undefined ? undefined : overrides[userKey];
  if (user) return fromOverride(user);
  const key = matchName(model, Object.keys(BUILT_IN));
  const row = key === undefined ? undefined : BUILT_IN[key];
  if (!row) return null;
  const [input, output, cacheRead = input * 0.1, cacheWrite = input * 1.25] = row;
  return { input, output, cacheRead, cacheWrite };
}

/** US dollars for these tokens of `model`, or null when its price is unknown. */
export function priceUsage(model: string, usage: TokenCounts, overrides: Config['agent']['pricing'] = {}): number | null {
  const price = findPrice(model, overrides);
  if (!price) return null;
  const dollars =
    (usage.inputTokens * price.input + usage.outputTokens * price.output + usage.cacheReadTokens * price.cacheRead + usage.cacheWriteTokens * price.cacheWrite) / 1e6;
  // Round to a millionth of a dollar: sums over many trials stay readable.
  return Math.round(dollars * 1e6) / 1e6;
}

function fromOverride(price: Config['agent']['pricing'][string]): Price {
  return { input: price.input, output: price.output, cacheRead: price.cache_read ?? price.input * 0.1, cacheWrite: price.cache_write ?? price.input * 1.25 };
}

/** The longest known name that `model` is, once provider prefixes and date stamps are set aside. */
function matchName(model: string, names: readonly string[]): string | undefined {
  const wanted = canonical(model);
  let best: string | undefined;
  for (const name of names) {
    const known = canonical(name);
    if (!wanted.startsWith(known) || !SAME_MODEL_SUFFIX.test(wanted.slice(known.length))) continue;
    if (best === undefined || known.length > canonical(best).length) best = name;
  }
  return best;
}

/**
 * "anthropic/claude-sonnet-4.5" (OpenRouter) and "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
 * (Bedrock) are claude-sonnet-4-5; "openai/gpt-5.1" is gpt-5.1. Claude names use dashes where
 * others write dots; OpenAI names keep their dots.
 */
function canonical(model: string): string {
  let name = model.trim().toLowerCase();
  name = name.slice(name.lastIndexOf('/') + 1);
  name = name.replace(/^(?:[a-z]{2,4}\.)?anthropic\./, '');
  if (name.startsWith('claude-')) name = name.replace(/\./g, '-');
  return name;
}
