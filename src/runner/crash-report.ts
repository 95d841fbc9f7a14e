import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';

const tailLineCount = 50;
// Shorter stderr than this rarely explains a crash ("Killed", a bare exit status).
const meaningfulStderrChars = 80;
const maxReportChars = 4096;
// run.log is read from its end only, so a huge log costs no more than this.
const maxRunLogReadBytes = 64 * 1024;

/**
 * The last `count` lines of `text` as a terminal would show them: of a line rewritten with
 * carriage returns (progress bars) only the final version is kept.
 */
export function tailLines(text: string, count = tailLineCount): string {
  // trimEnd, not /\s+$/: that regular expression takes quadratic time on a long run of blanks.
  const lines = text
    .trimEnd()
    .split('\n')
    .map((line) => {
      const parts = line.split('\r').filter((part) => part !== '');
      return parts[parts.length - 1] ?? '';
    });
  return lines.slice(-count).join('\n');
}

function readFileTail(file: string, maxBytes: number): string | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * Picks the output that explains a crash: stderr when it says something; otherwise the tail of
 * stdout; otherwise `<cwd>/run.log`, because `cmd 2>&1 | tee run.log` and `cmd > run.log 2>&1`
 * (the examples' style) leave nothing on stderr.
 */
function selectEvidence(output: { stdout: string; stderr: string; cwd: string }): string {
  const stderr = output.stderr.trim();
  if (stderr.length >= meaningfulStderrChars) return tailLines(output.stderr);
  const shortStderr = stderr === '' ? [] : [tailLines(output.stderr)];
  if (output.stdout.trim() !== '') return [tailLines(output.stdout), ...shortStderr].join('\n');
  const runLog = readFileTail(path.join(output.cwd, 'run.log'), maxRunLogReadBytes);
  if (runLog !== null && runLog.trim() !== '') {
    return ['--- last lines of run.log ---', tailLines(runLog), ...shortStderr].join('\n');
  }
  return shortStderr.join('\n');
}

/**
 * A crash report: one headline saying what failed, then the output that shows why, bounded to
 * about 4 KB (the end is kept: the error is usually last).
 */
export function formatCrashReport(headline: string, output: { stdout: string; stderr: string; cwd: string }): string {
  const evidence = selectEvidence(output);
  if (evidence === '') return headline;
  const room = maxReportChars - headline.length - 1;
  let body = evidence;
  if (body.length > room) {
    body = body.slice(body.length - room);
    const firstBreak = body.indexOf('\n');
    if (firstBreak !== -1 && firstBreak < body.length - 1) body = body.slice(firstBreak + 1);
  }
  return `${headline}\n${body}`;
}
