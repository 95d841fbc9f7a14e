import { describe, expect, it } from 'vitest';
import { findPrice, priceUsage } from '../../src/agents/pricing.js';

const tokens = (inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheWriteTokens = 0) => ({ inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens });

describe('priceUsage', () => {
  it('prices input, output and cache tokens of a known model', () => {
    // claude-sonnet-4-5: $3 in, $15 out; cache reads 10% and writes 125% of input.
    expect(priceUsage('claude-sonnet-4-5', tokens(1_000_000, 1_000_000, 1_000_000, 1_000_000))).toBeCloseTo(3 + 15 + 0.3 + 3.75, 6);
    expect(priceUsage('gpt-4o-mini', tokens(2_000_000, 1_000_000, 1_000_000))).toBeCloseTo(0.3 + 0.6 + 0.075, 6);
    expect(priceUsage('claude-opus-4-7', tokens(0, 0))).toBe(0);
  });

  it('knows a model under its dated, aliased, routed and cloud names', () => {
    const sonnet = findPrice('claude-sonnet-4-5');
    for (const name of [
      'claude-sonnet-4-5-20250929',
      'anthropic/claude-sonnet-4.5',
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'claude-sonnet-4-5@20250929',
      'Claude-Sonnet-4-5',
    ]) {
      expect(findPrice(name), name).toEqual(sonnet);
    }
    expect(findPrice('gpt-4o-mini-2024-07-18')).toEqual(findPrice('gpt-4o-mini'));
    expect(findPrice('openai/gpt-5.1')).toEqual(findPrice('gpt-5.1'));
    expect(findPrice('gpt-5-chat-latest')).toEqual(findPrice('gpt-5'));
  });

  it('takes the longest matching name, never a shorter sibling', () => {
    expect(findPrice('claude-opus-4-1-20250805')?.input).toBe(15);
    expect(findPrice('claude-opus-4-5-20251101')?.input).toBe(5);
    expect(findPrice('gpt-4o-mini')?.input).toBe(0.15);
    expect(findPrice('gpt-4.1-nano')?.input).toBe(0.1);
  });

  it('gives no price rather than a wrong one: unknown models, other variants, local models', () => {
    for (const name of ['qwen3:8b', 'llama3.1:70b', 'gpt-5.3-chat-latest', 'gpt-5.4-pro', 'claude-sonnet-4-9', 'my-model']) {
      expect(findPrice(name), name).toBeNull();
      expect(priceUsage(name, tokens(100, 100))).toBeNull();
    }
  });

  it('prefers the user prices in agent.pricing, with cache prices defaulting from input', () => {
    const pricing = { 'qwen3:8b': { input: 1, output: 2 }, 'claude-sonnet-4-5': { input: 10, output: 20, cache_read: 0, cache_write: 0 } };
    expect(priceUsage('qwen3:8b', tokens(1_000_000, 1_000_000, 1_000_000, 1_000_000), pricing)).toBeCloseTo(1 + 2 + 0.1 + 1.25, 6);
    expect(priceUsage('claude-sonnet-4-5-20250929', tokens(1_000_000, 0, 1_000_000), pricing)).toBe(10);
  });

  it('rounds to a millionth of a dollar', () => {
    expect(priceUsage('gpt-5-nano', tokens(1, 1))).toBe(0);
    expect(priceUsage('claude-opus-4-1', tokens(333, 77))).toBe(0.01077);
  });
});
