import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A `git` on PATH that appends its arguments to a log, then execs the real git: how many git
 * processes crucible starts, and which, without touching crucible. It costs a shell start per
 * call, so timings are never taken with it in place.
 */
export function installGitShim(dir) {
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  const binDir = path.join(dir, 'bin');
  const log = path.join(dir, 'git-calls.log');
  mkdirSync(binDir, { recursive: true });
  writeFileSync(path.join(binDir, 'git'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${realGit}' "$@"\n`);
  chmodSync(path.join(binDir, 'git'), 0o755);
  writeFileSync(log, '');
  return {
    env: { PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}` },
    /** Every call so far, as the git subcommand (after any -c/-C options). */
    calls() {
      if (!existsSync(log)) return [];
      return readFileSync(log, 'utf8').split('\n').filter((line) => line !== '').map(subcommandOf);
    },
  };
}

function subcommandOf(line) {
  const words = line.split(' ');
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '-c' || words[i] === '-C') i++;
    else if (!words[i].startsWith('-')) return words[i];
  }
  return '(none)';
}
