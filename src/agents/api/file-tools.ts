/**
 * The five tools the model works with: read_file, edit_file, write_file, glob and grep, each
 * confined to the agent workspace and its access policy. A refusal is thrown, and the AI SDK
 * hands its message back to the model as the tool's error, so the model can try something else.
 */
import type * as Ai from 'ai';
import type { ToolSet } from 'ai';
import { z } from 'zod';
import type { AgentWorkspace } from '../types.js';
import { editWorkspaceFile, readWorkspaceFile, writeWorkspaceFile } from './file-edits.js';
import { globWorkspace, grepWorkspace } from './file-search.js';
import { createPathGuard } from './workspace-paths.js';

const pathField = z.string().describe('Path relative to the project folder, e.g. "src/model.py".');

/** `tool`: the AI SDK's, loaded by the caller when a model is first asked (it is large). */
export function createFileTools(workspace: AgentWorkspace, tool: typeof Ai.tool): ToolSet {
  const guard = createPathGuard(workspace);
  return {
    read_file: tool({
      description: 'Read a text file. Long files come in windows of lines: pass offset (1-based line) and limit to read further.',
      inputSchema: z.object({
        path: pathField,
        offset: z.number().int().min(1).optional().describe('First line to read (1-based).'),
        limit: z.number().int().min(1).optional().describe('Most lines to read (default 2000).'),
      }),
      execute: (input) => readWorkspaceFile(guard, input),
    }),
    edit_file: tool({
      description:
        'Replace exact text in an editable file. old_string must match the file exactly (whitespace and indentation included) and occur exactly once, unless replace_all is true. Read the file first.',
      inputSchema: z.object({
        path: pathField,
        old_string: z.string().describe('The exact text to replace.'),
        new_string: z.string().describe('The text to put in its place.'),
        replace_all: z.boolean().optional().describe('Replace every occurrence instead of exactly one.'),
      }),
      execute: (input) => editWorkspaceFile(guard, input),
    }),
    write_file: tool({
      description: 'Write a whole editable file, creating it (and its folders) or replacing its content.',
      inputSchema: z.object({ path: pathField, content: z.string().describe('The complete new content of the file.') }),
      execute: (input) => writeWorkspaceFile(guard, input),
    }),
    glob: tool({
      description: 'List files whose path matches a glob pattern, e.g. "**/*.py" or "src/*.ts". A pattern without "/" matches file names at any depth.',
      inputSchema: z.object({
        pattern: z.string().describe('Glob pattern: ** spans folders, * and ? match within a name, {a,b} is an alternative.'),
        path: z.string().optional().describe('Folder to search in (default: the whole project).'),
      }),
      execute: (input) => globWorkspace(guard, input),
    }),
    grep: tool({
      description: 'Search file contents with a regular expression; returns matching lines as path:line: text.',
      inputSchema: z.object({
        pattern: z.string().describe('JavaScript regular expression, matched against each line.'),
        path: z.string().optional().describe('File or folder to search (default: the whole project).'),
        glob: z.string().optional().describe('Only search files matching this glob, e.g. "*.py".'),
        ignore_case: z.boolean().optional().describe('Match regardless of case.'),
      }),
      execute: (input) => grepWorkspace(guard, input),
    }),
  };
}
