/**
 * What the wizard will write, decided before anything is written: every path must stay inside
 * the project, every file must be real content rather than a placeholder, and the files crucible
 * needs must be there. Pure: the model's files in, the files to write or the reasons to refuse out.
 */
import { parseConfigText } from '../../config/load.js';
import { DEFAULT_GITIGNORE, packageName, type ProjectFile } from '../scaffold.js';
import type { Analysis } from './analysis.js';

export interface FilePlan {
  files: ProjectFile[];
  /** Each a line naming the file and what is wrong; the plan is refused when any is present. */
  problems: string[];
}

const REQUIRED = ['.crucible/config.yaml', '.crucible/program.md'];
/** Below this many characters an essential file cannot be real. */
const MIN_ESSENTIAL_CHARS = 20;
const PYTHON_GITIGNORE = ['__pycache__/', '*.pyc', '.venv/'];

/** Why `file` cannot be a path inside the project, or null when it can. */
export function checkPath(file: string): string | null {
  if (file.trim() === '' || file.length > 200) return 'is not a usable file name';
  if ([...file].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) return 'has control characters in its name';
  if (file.includes('\\')) return 'uses "\\": paths must use "/"';
  if (file.startsWith('/') || /^[A-Za-z]:/.test(file) || file.startsWith('~')) return 'is an absolute path: files must stay inside the project';
  const parts = file.split('/');
  if (parts.some((part) => part === '..')) return 'leaves the project ("..")';
  if (parts.some((part) => part === '' || part === '.')) return 'is not a plain relative path';
  if (parts[0]?.toLowerCase() === '.git') return 'is inside .git/';
  if (file.startsWith('.crucible/runs/')) return "is inside .crucible/runs/, crucible's own records";
  return null;
}

// A whole file that says "fill me in".
const PLACEHOLDER_FILE = [
  /^(\.\.\.|…)$/,
  /^(#|\/\/|<!--)?\s*todo\b[^\n]*$/i,
  /^<[A-Za-z][^<>\n]*>$/,
  /^\[[A-Za-z][^[\]\n]*\]$/,
  /^pass\s*(#[^\n]*)?$/,
  /^(#|\/\/)\s*(see above|same as above|[^\n]*\b(implement|placeholder)\w*\b[^\n]*)$/i,
];

// A telltale anywhere in a file: the model stopped writing and left a note instead. Prose
// (Markdown, text) may say "the rest of the code" for real, so the code-only marks skip it.
const PLACEHOLDER_MARK: { re: RegExp; codeOnly: boolean }[] = [
  { re: /\[\s*(your|insert)\b[^\]\n]*\bhere\s*\]/i, codeOnly: false },
  { re: /<\s*insert\b[^>\n]*>/i, codeOnly: false },
  { re: /\byour (code|implementation) (goes )?here\b/i, codeOnly: false },
  { re: /\b(rest|remainder) of (the )?(code|file|implementation)\b/i, codeOnly: true },
  { re: /^\s*(#|\/\/)\s*(\.\.\.|…)\s*$/m, codeOnly: true },
  { re: /(\.\.\.|…)\s*\(?(existing|previous|same|unchanged) (code|content|implementation)/i, codeOnly: true },
  { re: /^\s*pass\s*#\s*(todo|implement)/im, codeOnly: true },
];

/** Why `content` looks like a placeholder rather than the real file, or null. */
export function findPlaceholder(file: string, content: string, essential: boolean): string | null {
  const prose = /\.(md|markdown|txt|rst)$/i.test(file);
  const text = content.trim();
  if (text !== '' && PLACEHOLDER_FILE.some((re) => re.test(text))) return `is a placeholder: ${JSON.stringify(text.slice(0, 50))}`;
  for (const { re, codeOnly } of PLACEHOLDER_MARK) {
    if (codeOnly && prose) continue;
    const match = re.exec(text);
    if (match) return `holds placeholder text: ${JSON.stringify(match[0].trim().slice(0, 50))}`;
  }
  if (essential && text.length < MIN_ESSENTIAL_CHARS) return text === '' ? 'is empty' : `is only ${JSON.stringify(text)}`;
  return null;
}

/** Checks the model's files and completes them (.gitignore, package.json); refuses with reasons. */
export function planProjectFiles(generated: Readonly<Record<string, string>>, analysis: Analysis): FilePlan {
  const problems: string[] = [];
  const files = new Map<string, string>();
  for (const [raw, content] of Object.entries(generated)) {
    const file = raw.replace(/^(\.\/)+/, '');
    const why = checkPath(file);
    if (why !== null) problems.push(`${JSON.stringify(raw)} ${why}`);
    else if (files.has(file)) problems.push(`${file} is given twice`);
    else files.set(file, content);
  }
  problems.push(...findClashes([...files.keys()]));
  for (const required of REQUIRED) if (!files.has(required)) problems.push(`${required} is missing`);

  const config = files.get('.crucible/config.yaml');
  const parsed = config === undefined ? null : parseConfigText(config, '.crucible/config.yaml');
  const essential = new Set([...REQUIRED, 'README.md', ...analysis.editable_files]);
  if (parsed?.ok) {
    // A config that does not parse is left for validate to report (and the user to fix); one that
    // does must hide its harness, or the agent could read how it is scored.
    if (parsed.config.files.hidden.length === 0) problems.push('.crucible/config.yaml lists no hidden evaluation harness (files.hidden)');
    for (const entry of [...parsed.config.files.editable, ...parsed.config.files.hidden]) essential.add(entry);
  }
  for (const [file, content] of files) {
    const why = findPlaceholder(file, content, essential.has(file));
    if (why !== null) problems.push(`${file} ${why}`);
  }
  if (problems.length > 0) return { files: [], problems };

  files.set('.gitignore', completeGitignore(files.get('.gitignore'), analysis.language));
  if (analysis.language === 'node' && !files.has('package.json')) {
    files.set('package.json', `${JSON.stringify({ name: packageName(analysis.name), private: true, type: 'module' }, null, 2)}\n`);
  }
  const planned = [...files].map(([path, content]) => ({ path, content })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files: planned, problems: [] };
}

/** A file that is also a folder of another ("a" and "a/b"), or two names that differ only in case. */
function findClashes(paths: readonly string[]): string[] {
  const problems: string[] = [];
  const byFolded = new Map<string, string>();
  for (const file of paths) {
    const folded = file.toLowerCase();
    const other = byFolded.get(folded);
    if (other !== undefined) problems.push(`${file} and ${other} differ only in case`);
    byFolded.set(folded, file);
  }
  const set = new Set(paths);
  for (const file of paths) {
    const parts = file.split('/');
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join('/');
      if (set.has(folder)) problems.push(`${folder} is both a file and the folder of ${file}`);
    }
  }
  return problems;
}

/** The model's .gitignore with what crucible writes (and, for Python, caches and the venv) added. */
export function completeGitignore(content: string | undefined, language: Analysis['language']): string {
  const text = content === undefined || content.trim() === '' ? '' : content.endsWith('\n') ? content : `${content}\n`;
  const present = new Set(text.split('\n').map((line) => line.trim()));
  const wanted = [...DEFAULT_GITIGNORE.split('\n'), ...(language === 'python' ? PYTHON_GITIGNORE : [])].filter((line) => line !== '');
  const missing = wanted.filter((line) => !present.has(line));
  return text + missing.map((line) => `${line}\n`).join('');
}
