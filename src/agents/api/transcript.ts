/**
 * A readable account of one proposal (agent.log in the trial's folder): each step's text and
 * tool calls with their results, cut to a readable length. Written as the steps finish, so a
 * trial that times out still shows how far the model got.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import type { AgentUsage } from '../types.js';

const MAX_TEXT_CHARS = 4000;
const MAX_TOOL_CHARS = 1500;

/** The parts of an AI SDK step the transcript shows (a structural subset of StepResult). */
export interface StepRecord {
  content: readonly { type: string }[];
  finishReason: string;
  usage: { inputTokens: number | undefined; outputTokens: number | undefined };
}

export interface Transcript {
  readonly path: string;
  step(step: StepRecord): void;
  end(summary: { steps: number; description: string; usage: AgentUsage; stoppedAtMaxSteps: boolean }): void;
  fail(message: string): void;
  /** A line of its own, e.g. a warning the SDK gave about the request. */
  note(message: string): void;
}

export function openTranscript(file: string, header: readonly string[]): Transcript {
  writeFileSync(file, `${header.join('\n')}\n`);
  let steps = 0;
  const write = (text: string): void => {
    try {
      appendFileSync(file, text);
    } catch {
      // The transcript is for people; a full disk must not fail the trial over it.
    }
  };
  return {
    path: file,
    step(step) {
      steps++;
      const lines = [`\n--- step ${steps} (${step.usage.inputTokens ?? '?'} tokens in, ${step.usage.outputTokens ?? '?'} out; ${step.finishReason}) ---`];
      for (const { type, ...part } of step.content as readonly ({ type: string } & Record<string, unknown>)[]) {
        if (type === 'text' && typeof part['text'] === 'string' && part['text'].trim() !== '') lines.push(clip(part['text'].trim(), MAX_TEXT_CHARS));
        else if (type === 'reasoning' && typeof part['text'] === 'string' && part['text'].trim() !== '') lines.push(`(thinking) ${clip(part['text'].trim(), MAX_TOOL_CHARS)}`);
        else if (type === 'tool-call') lines.push(`> ${String(part['toolName'])} ${clip(JSON.stringify(part['input'] ?? {}), MAX_TOOL_CHARS)}`);
        else if (type === 'tool-result') lines.push(indent(`< ${clip(asText(part['output']), MAX_TOOL_CHARS)}`));
        else if (type === 'tool-error') lines.push(indent(`< refused: ${clip(errorText(part['error']), MAX_TOOL_CHARS)}`));
      }
      write(`${lines.join('\n')}\n`);
    },
    end({ steps: count, description, usage, stoppedAtMaxSteps }) {
      const cost = usage.costUsd === null ? 'cost unknown' : `$${usage.costUsd.toFixed(4)}`;
      write(
        [
          '',
          `=== done after ${count} step${count === 1 ? '' : 's'}${stoppedAtMaxSteps ? ' (agent.max_steps reached)' : ''}`,
          `tokens: ${usage.inputTokens} in, ${usage.cacheReadTokens} cache read, ${usage.cacheWriteTokens} cache write, ${usage.outputTokens} out; ${cost}`,
          `description: ${description === '' ? '(none)' : description}`,
          '',
        ].join('\n'),
      );
    },
    fail(message) {
      write(`\n=== failed: ${message}\n`);
    },
    note(message) {
      write(`(${clip(message, MAX_TOOL_CHARS)})\n`);
    },
  };
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : asText(error);
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters]`;
}

function indent(text: string): string {
  return text.replace(/\n/g, '\n  ');
}
