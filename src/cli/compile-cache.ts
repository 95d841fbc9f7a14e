import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, isAbsolute, join, sep } from 'node:path';
import { Script } from 'node:vm';

/**
 * V8's code cache for the `crucible` command's own files (docs/decisions.md 55).
 *
 * Node compiles every file it loads, and V8 compiles each function again when it first runs: for
 * `status` that was about a quarter of what it costs above a bare `node -e 0`. V8 can serialise
 * what it compiled (`script.createCachedData()`, after the command ran, so the functions it ran
 * are in it) and take it back on the next start. Node 22 does this itself
 * (`module.enableCompileCache`); Node 20, which crucible supports, does not, so the CommonJS
 * loader's compile step is wrapped here for the files of the command's folder, and only those.
 *
 * What it must never do is run code that is not the file's: V8 checks a cache against its source
 * by length alone. So each cache names the file it was made from by device, inode, size and
 * modification and change times; a file rewritten, even to the same length, or replaced has
 * another (the change time cannot be set back), and its cache is made again. A cache is code:
 * it is read only from a folder that this user owns and nobody else may write to, nor anything
 * above it up to the cache's root. Anything wrong (no home, a read-only disk, a cache V8 rejects)
 * costs a normal compile, never the command.
 */

/** Writing a cache is not the command's work: set (as for Node 22's own cache) to turn it off. */
export const disableVariable = 'NODE_DISABLE_COMPILE_CACHE';

const headerMagic = 'crucible-compile-cache 1';
// A cache's name is its file's path in the command's folder with this for the separator: chunk
// names (rolldown's base64url hashes) never hold it.
const pathSeparatorInName = '+';
// Then this, and the command it was made by.
const variantMark = '@';
const staleTemporaryMs = 60_000;
// The header is one short line; a longer one is not ours.
const maxHeaderBytes = 256;

interface LoadableModule {
  _compile: (this: LoadableModule, content: string, filename: string) => unknown;
  exports: unknown;
}

interface Pending {
  script: Script;
  cacheFile: string;
  identity: string;
}

/** Where the caches of the command in codeDir live, for this Node; null without a home. */
export function compileCacheDir(codeDir: string, env: NodeJS.ProcessEnv): string | null {
  const xdg = env['XDG_CACHE_HOME'];
  let base: string;
  if (xdg !== undefined && isAbsolute(xdg)) base = xdg;
  else {
    // Not os.homedir(): loading node:os costs every start more than a home from passwd is worth.
    const home = env['HOME'];
    if (home === undefined || !isAbsolute(home)) return null;
    base = join(home, '.cache');
  }
  // One folder per Node (V8 rejects another version's cache) and per installed copy (two
  // checkouts would otherwise rewrite each other's cache of the same file name at every start).
  return join(base, 'crucible', 'compile', `${process.version}-${process.arch}`, shortHash(codeDir));
}

/**
 * Compiles the files under codeDir through V8's code cache, from the next file loaded on. Returns
 * false, and changes nothing, where the cache is turned off or has no place.
 *
 * A cache holds the functions that ran when it was made: `--help` would gain little from the one
 * `status` made of the same file. So each command (its first word: `status`, `run`) has its own.
 */
export function enableCompileCache(codeDir: string, env: NodeJS.ProcessEnv, command: string | undefined): boolean {
  if (env[disableVariable] !== undefined && env[disableVariable] !== '' && env[disableVariable] !== '0') return false;
  const cacheDir = compileCacheDir(codeDir, env);
  if (cacheDir === null) return false;
  const prefix = codeDir.endsWith(sep) ? codeDir : codeDir + sep;
  const variant = command !== undefined && /^[a-z][a-z-]{0,31}$/.test(command) ? command : 'other';
  const proto = (Module as unknown as { prototype: LoadableModule }).prototype;
  const compile = proto._compile;
  const pending: Pending[] = [];
  let trusted: boolean | undefined;

  proto._compile = function compileWithCache(this: LoadableModule, content: string, filename: string): unknown {
    // `import()` in a script compiled here would need a loader of its own (the model SDKs'
    // chunks have one each): those few files are compiled as Node compiles them.
    if (!filename.startsWith(prefix) || content.includes('import(')) return compile.call(this, content, filename);
    const cacheFile = join(cacheDir, `${filename.slice(prefix.length).replaceAll(sep, pathSeparatorInName)}${variantMark}${variant}`);
    let identity: string;
    try {
      identity = fileIdentity(filename);
    } catch {
      return compile.call(this, content, filename);
    }
    trusted ??= isPrivateFolder(cacheDir, trustRoot(cacheDir));
    const cachedData = trusted ? readCache(cacheFile, identity) : undefined;
    // A hashbang is valid only at a script's very start, not inside the module's wrapper.
    const source = content.startsWith('#!') ? `//${content}` : content;
    const script = new Script(wrap(source), { filename, ...(cachedData ? { cachedData } : {}) });
    if (cachedData === undefined || script.cachedDataRejected === true) pending.push({ script, cacheFile, identity });
    const moduleFunction = script.runInThisContext() as (...args: unknown[]) => unknown;
    const require = createRequire(filename);
    return moduleFunction.call(this.exports, this.exports, require, this, filename, dirname(filename));
  };

  process.once('exit', () => {
    if (pending.length > 0) writeCaches(cacheDir, prefix, pending);
  });
  return true;
}

function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
}

/** The crucible folder in the cache: it and everything below it must be this user's alone. */
function trustRoot(cacheDir: string): string {
  return dirname(dirname(dirname(cacheDir)));
}

function fileIdentity(file: string): string {
  const s = statSync(file);
  return `${String(s.dev)}:${String(s.ino)}:${String(s.size)}:${String(s.mtimeMs)}:${String(s.ctimeMs)}`;
}

/**
 * A folder whose files only this user can have written: it and each folder above it up to root
 * (the crucible folder in the cache) are real folders, owned by this user (or root), writable by
 * no one else. Where the user is root, owned by root.
 */
function isPrivateFolder(dir: string, root: string): boolean {
  const uid = process.getuid?.();
  if (uid === undefined) return false;
  for (let current = dir; ; current = dirname(current)) {
    let s;
    try {
      s = lstatSync(current);
    } catch {
      return false;
    }
    if (!s.isDirectory() || (s.uid !== uid && s.uid !== 0) || (s.mode & 0o022) !== 0) return false;
    if (current === root || current === dirname(current)) return true;
  }
}

/** The cache made from the file that has this identity; undefined if there is none or it is another's. */
function readCache(cacheFile: string, identity: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(cacheFile, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const data = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, data, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    const newline = data.subarray(0, Math.min(read, maxHeaderBytes)).indexOf(10);
    if (newline < 0 || data.subarray(0, newline).toString('latin1') !== `${headerMagic} ${identity}`) return undefined;
    // V8 checks the rest (its version, flags, the source's length, the data's own length) and
    // rejects what does not fit: a cache cut short by a crash is compiled again and rewritten.
    return data.subarray(newline + 1, read);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * At exit: the caches that were missing or rejected, each written whole under another name and
 * renamed (a start reading it at the same moment sees the old one or the new one). The caches of
 * files no longer in the command's folder (chunks of an older build) are removed.
 */
function writeCaches(cacheDir: string, prefix: string, pending: readonly Pending[]): void {
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    if (!isPrivateFolder(cacheDir, trustRoot(cacheDir))) return;
    for (const { script, cacheFile, identity } of pending) {
      const data = script.createCachedData();
      const temporary = `${cacheFile}.${String(process.pid)}.tmp`;
      writeFileSync(temporary, Buffer.concat([Buffer.from(`${headerMagic} ${identity}\n`, 'latin1'), data]), { mode: 0o600 });
      renameSync(temporary, cacheFile);
    }
    for (const name of readdirSync(cacheDir)) {
      const entry = join(cacheDir, name);
      try {
        // Another start's cache being written, unless that start died before its rename.
        if (name.endsWith('.tmp')) {
          if (Date.now() - statSync(entry).mtimeMs > staleTemporaryMs) unlinkSync(entry);
          continue;
        }
        statSync(prefix + name.slice(0, Math.max(0, name.lastIndexOf(variantMark))).replaceAll(pathSeparatorInName, sep));
      } catch {
        rmSync(entry, { force: true });
      }
    }
  } catch {
    // A cache that cannot be written costs the next start a compile, nothing else.
  }
}

/** A short, stable name for a path (FNV-1a): which installed copy a cache belongs to. */
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}
