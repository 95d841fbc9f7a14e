/**
 * Reading a JSON answer out of a model's text, and asking once more when it is not one. Models
 * wrap JSON in prose or code fences now and then; a second request with the reason usually
 * gets it right, a third rarely does.
 */
import type { z } from 'zod';
import type { CompleteOptions, TextModel } from '../../agents/text-model.js';
import type { AgentUsage } from '../../agents/types.js';
import { CrucibleError } from '../../errors.js';
import { addUsage, emptyUsage } from '../../agents/usage.js';

export type JsonReading<T> = { ok: true; value: T } | { ok: false; error: string };

/** The JSON object in `text` (bare, in a ``` fence, or between the first "{" and the last "}"), checked by `schema`. */
export function readModelJson<T>(text: string, schema: z.ZodType<T>): JsonReading<T> {
  const candidate = jsonCandidate(text);
  if (candidate === null) return { ok: false, error: text.trim() === '' ? 'the answer was empty' : 'the answer held no JSON object' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(candidate);
  } catch (error) {
    return { ok: false, error: `the JSON does not parse (${error instanceof Error ? error.message : String(error)})` };
  }
  const checked = schema.safeParse(parsed);
  if (checked.success) return { ok: true, value: checked.data };
  const issues = checked.error.issues.slice(0, 5).map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(top)'}: ${issue.message}`);
  return { ok: false, error: `the JSON does not have the expected shape (${issues.join('; ')})` };
}

function jsonCandidate(text: string): string | null {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return trimmed;
  const fenced = /```(?:json)?\s*\n([\s\S]*?)\n\s*```/i.exec(trimmed);
  if (fenced?.[1]?.trim().startsWith('{')) return fenced[1].trim();
  const first = trimmed.indexOf('{');
  const last = trimmed.lastIndexOf('}');
  return first >= 0 && last > first ? trimmed.slice(first, last + 1) : null;
}

export interface JsonCall<T> {
  system: string;
  user: string;
  schema: z.ZodType<T>;
  /** What is asked for, in messages: "the analysis", "the project". */
  what: string;
  signal: AbortSignal;
  options?: CompleteOptions;
}

/** Asks, reads the JSON; asks once more with the reason when it is unusable; then gives up with a clear error. */
export async function completeJson<T>(model: TextModel, call: JsonCall<T>): Promise<{ value: T; usage: AgentUsage }> {
  let usage = emptyUsage();
  let user = call.user;
  let lastError = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    const answer = await model.complete(call.system, user, call.signal, call.options);
    usage = addUsage(usage, answer.usage);
    const reading = readModelJson(answer.text, call.schema);
    if (reading.ok) return { value: reading.value, usage };
    lastError = reading.error;
    user = `${call.user}\n\nYour previous answer could not be used: ${reading.error}. Answer again with ONLY the JSON object described in the instructions, nothing before or after it.`;
  }
  throw new CrucibleError('CRUCIBLE_FAILURE', `the model did not return usable JSON for ${call.what}, twice: ${lastError}`, {
    hints: ['Run the wizard again, or try another model with --model.'],
  });
}
