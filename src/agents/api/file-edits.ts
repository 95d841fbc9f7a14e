/**
 * Reading and changing files in the agent workspace, under the access policy: what the file
 * tools do once the model's arguments are parsed. Every refusal is a ToolDenied whose message
 * tells the model what it can do instead.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolDenied, type PathGuard } from './workspace-paths.js';

/** Beyond this a read returns a window of the file, with a note on how to see the rest. */
const MAX_READ_LINES = 2000;
const MAX_READ_CHARS = 100_000;
const MAX_LINE_CHARS = 2000;
const MAX_FILE_BYTES = 5_000_000;

export interface ReadInput {
  path: string;
  /** First line to show, 1-based. */
  offset?: number;
  /** Most lines to show. */
  limit?: number;
}

export async function readWorkspaceFile(guard: PathGuard, input: ReadInput): Promise<string> {
  const target = guard.readable(input.path);
  const text = await readText(target.absolute, target.relative);
  if (text === '') return `(${target.relative} is empty)`;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const first = Math.max(1, Math.floor(input.offset ?? 1));
  if (first > lines.length) throw new ToolDenied(`${target.relative} has only ${lines.length} lines`);
  const limit = Math.max(1, Math.min(Math.floor(input.limit ?? MAX_READ_LINES), MAX_READ_LINES));
  let out = '';
  let last = first - 1;
  let cut = false;
  for (const line of lines.slice(first - 1, first - 1 + limit)) {
    cut ||= line.length > MAX_LINE_CHARS;
    const shown = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}… [line cut]` : line;
    if (out.length + shown.length > MAX_READ_CHARS) break;
    out += `${shown}\n`;
    last++;
  }
  // The whole file: exactly as it is, so what the model copies into old_string matches.
  if (first === 1 && last === lines.length && !cut) return text;
  const more = last < lines.length ? `read again with offset ${last + 1} for more` : 'the end of the file';
  return `${out}[lines ${first}-${last} of ${lines.length} of ${target.relative}; ${more}]`;
}

export interface EditInput {
  path: string;
  old_string: string;
  new_string: string;
  replace_all?: boolean;
}

export async function editWorkspaceFile(guard: PathGuard, input: EditInput): Promise<string> {
  const target = guard.writable(input.path);
  const text = await readText(target.absolute, target.relative, `; use write_file to create it`);
  if (input.old_string === '') throw new ToolDenied('old_string is empty: give the exact text to replace (use write_file to write a whole file)');
  if (input.old_string === input.new_string) throw new ToolDenied('old_string and new_string are the same: nothing would change');
  let oldString = input.old_string;
  let newString = input.new_string;
  let count = occurrences(text, oldString);
  if (count === 0 && text.includes('\r\n') && !oldString.includes('\r\n')) {
    // The model saw "\n" line ends; the file has Windows ones.
    oldString = oldString.replace(/\n/g, '\r\n');
    newString = newString.replace(/\n/g, '\r\n');
    count = occurrences(text, oldString);
  }
  if (count === 0) {
    throw new ToolDenied(`old_string was not found in ${target.relative}: it must match the file exactly, whitespace and indentation included (read the file again)`);
  }
  if (count > 1 && input.replace_all !== true) {
    throw new ToolDenied(`old_string occurs ${count} times in ${target.relative}: include more surrounding lines to make it unique, or set replace_all to replace every one`);
  }
  // split/join, not String.replace: "$&" and friends in new_string must stay literal.
  await writeFile(target.absolute, text.split(oldString).join(newString));
  return `edited ${target.relative}: replaced ${count === 1 ? 'one occurrence' : `${count} occurrences`}`;
}

export interface WriteInput {
  path: string;
  content: string;
}

export async function writeWorkspaceFile(guard: PathGuard, input: WriteInput): Promise<string> {
  const target = guard.writable(input.path);
  const existing = await stat(target.absolute).catch(() => null);
  if (existing?.isDirectory()) throw new ToolDenied(`${target.relative} is a folder`);
  await mkdir(path.dirname(target.absolute), { recursive: true });
  await writeFile(target.absolute, input.content);
  const lines = input.content === '' ? 0 : input.content.split('\n').length - (input.content.endsWith('\n') ? 1 : 0);
  return `${existing ? 'wrote' : 'created'} ${target.relative} (${lines} line${lines === 1 ? '' : 's'})`;
}

async function readText(file: string, name: string, missingHint = ''): Promise<string> {
  const info = await stat(file).catch(() => null);
  if (!info) throw new ToolDenied(`${name} does not exist${missingHint}`);
  if (info.isDirectory()) throw new ToolDenied(`${name} is a folder: use glob to list its files`);
  if (info.size > MAX_FILE_BYTES) throw new ToolDenied(`${name} is too large to read (${Math.round(info.size / 1e6)} MB): use grep to find what you need in it`);
  const buffer = await readFile(file);
  if (buffer.subarray(0, 8192).includes(0)) throw new ToolDenied(`${name} is a binary file`);
  return buffer.toString('utf8');
}

function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}
