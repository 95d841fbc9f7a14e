import { describe, expect, it } from 'vitest';
import { classifyAgentError } from '../../src/agents/classify-error.js';
import { AgentError } from '../../src/errors.js';

/** Errors shaped like the AI SDK's (APICallError, RetryError) and Node's, built by hand: no SDK needed. */
function apiCallError(statusCode: number | undefined, responseBody?: string, message = 'call failed'): Error {
  return Object.assign(new Error(message), { name: 'AI_APICallError', statusCode, responseBody });
}

const classify = (error: unknown) => {
  const result = classifyAgentError(error, { credentials: 'agent.api_key_env: the key in OPENAI_API_KEY', endpoint: 'http://127.0.0.1:9/v1' });
  return `${result.kind}: ${result.message}`;
};

describe('classifyAgentError', () => {
  it('makes a refused key fatal and says which variable to fix', () => {
    expect(classify(apiCallError(401, '{"error":{"message":"Incorrect API key provided"}}'))).toBe(
      'fatal: agent.api_key_env: the key in OPENAI_API_KEY was rejected (401 Unauthorized): Incorrect API key provided',
    );
    expect(classify(apiCallError(403, '{"type":"error","error":{"type":"permission_error","message":"no access"}}'))).toBe(
      'fatal: agent.api_key_env: the key in OPENAI_API_KEY was rejected (403 Forbidden): no access',
    );
    expect(classifyAgentError(apiCallError(401), { credentials: 'a request without an API key', authHint: 'set agent.api_key_env' }).message).toBe(
      'a request without an API key was rejected (401 Unauthorized): call failed; set agent.api_key_env',
    );
  });

  it('makes rate limits, overloads, server errors and dropped connections transient', () => {
    expect(classify(apiCallError(429))).toMatch(/^transient: the model API answered 429 Too Many Requests/);
    expect(classify(apiCallError(529))).toMatch(/^transient: .*529 Overloaded/);
    expect(classify(apiCallError(500))).toMatch(/^transient: .*500 Internal Server Error/);
    expect(classify(apiCallError(503))).toMatch(/^transient: .*503/);
    const reset = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
    expect(classify(reset)).toBe('transient: lost the connection to http://127.0.0.1:9/v1: ECONNRESET');
    expect(classify(apiCallError(undefined, undefined, 'Cannot connect to API: other side closed'))).toMatch(/^transient: lost the connection/);
  });

  it('looks through retry wrappers to the last error', () => {
    const retry = Object.assign(new Error('Failed after 3 attempts. Last error: overloaded'), { name: 'AI_RetryError', lastError: apiCallError(529) });
    expect(classify(retry)).toMatch(/^transient: .*529/);
  });

  it('reads a status from the text when that is all there is (the Agent SDK reports errors as text)', () => {
    expect(classify(new Error('API Error: 401 {"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}'))).toMatch(/^fatal: .*401/);
    expect(classify(new Error('API Error: 529 {"type":"error","error":{"type":"overloaded_error"}}'))).toMatch(/^transient: .*529/);
    expect(classify(new Error('Invalid API key · Please run /login'))).toMatch(/^fatal: .*401/);
    expect(classify(new Error('rate_limit_error: slow down'))).toMatch(/^transient: .*429/);
  });

  it('makes a 404 (wrong model or URL) fatal and other refusals a failed trial', () => {
    expect(classify(apiCallError(404, '{"error":{"message":"model \\"qwen9\\" not found"}}'))).toBe(
      'fatal: the model API answered 404 Not Found: model "qwen9" not found; check agent.model and agent.base_url',
    );
    expect(classify(apiCallError(400, '{"error":{"message":"context length exceeded"}}'))).toBe('failed: the model API refused the request (400 Bad Request): context length exceeded');
    expect(classify(new Error('tool input did not parse'))).toBe('failed: tool input did not parse');
  });

  it('tells a timeout from a cancel, and passes AgentErrors through', () => {
    expect(classify(new DOMException('The operation timed out', 'TimeoutError'))).toBe('timeout: the agent ran past its time limit');
    expect(classify(new DOMException('aborted', 'AbortError'))).toBe('failed: canceled');
    const original = new AgentError('fatal', 'as it was');
    expect(classifyAgentError(original)).toBe(original);
  });
});
