import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentView, experimentView } from '../../src/sandbox/view.js';

// The credential folders and files are looked for at each proposal, most of them absent: what is
// there, as the kind it must be, is hidden; what is absent, of another kind, or under a file is not.
let home: string | undefined;
afterEach(() => {
  if (home) rmSync(home, { recursive: true, force: true });
  home = undefined;
});

function homeWith(): string {
  home = mkdtempSync(path.join(os.tmpdir(), 'crucible-home-'));
  mkdirSync(path.join(home, '.ssh'));
  mkdirSync(path.join(home, '.claude'));
  writeFileSync(path.join(home, '.netrc'), 'machine x login y password z\n');
  // A file where a folder is looked for, and a folder where a file is.
  writeFileSync(path.join(home, '.aws'), 'not a folder\n');
  mkdirSync(path.join(home, '.npmrc'));
  // `.config` a file: `.config/gcloud` and `.config/gh` lie under a file (ENOTDIR), not absent.
  writeFileSync(path.join(home, '.config'), '');
  // A link to a folder counts as the folder it leads to.
  mkdirSync(path.join(home, 'real-kube'));
  symlinkSync(path.join(home, 'real-kube'), path.join(home, '.kube'));
  return home;
}

describe('the credentials a sandbox hides', () => {
  it('hides from an agent the credential folders and files that are there, as what they must be', () => {
    const dir = homeWith();
    const view = agentView({ workspace: '/w', gitDir: '/g', hide: [path.join(dir, 'absent-repo')], readable: [], writable: [], base: '/p', network: false, env: { HOME: dir } });
    expect(view.hiddenFolders).toEqual([path.join(dir, '.ssh'), path.join(dir, '.kube')]);
    expect(view.hiddenFiles).toEqual([path.join(dir, '.netrc')]);
  });

  it("hides from an experiment the agents' logins as well", () => {
    const dir = homeWith();
    const view = experimentView({ projectDir: '/p', readonly: [], writable: [], network: false, env: { HOME: dir } });
    expect(view.hiddenFolders).toEqual([path.join(dir, '.ssh'), path.join(dir, '.kube'), path.join(dir, '.claude')]);
    expect(view.hiddenFiles).toEqual([path.join(dir, '.netrc')]);
  });
});
