import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/**
 * V8's code cache for the bundled command's chunks: a chunk is compiled from its cache, not parsed
 * again, on every start after the first.
 *
 * Parsing and compiling the chunks a command loads was a third of `crucible status`'s own start-up
 * on the machine we measure on (8–11 ms for the 200 KB it loads), and more for `run`. Node 22.1
 * and later keep such a cache themselves (`module.enableCompileCache`), and are asked to; on
 * older Node, CommonJS's compile step is wrapped for the files in `chunksDir` only: each is compiled
 * from the cache written beside it, and a chunk with no cache (or one V8 turns down: another V8,
 * other flags) has its cache written when the process exits, with the functions that ran in it.
 *
 * The cache lives in the package's own folder (`<dist/cli>/.compile-cache/`), so whoever can write
 * it could already rewrite the chunks it describes: it adds no way in. It is read only from folders
 * that are real folders (no links), owned by this user or the package's owner, and writable by no
 * one else. Where the folder cannot be made (a read-only install), commands run as before,
 * uncached. A cache file is used only for the very chunk file it was written from, since V8's own
 * check is the source's length alone: each is named after its chunk (whose name holds the
 * content's hash) and records the chunk's device, inode, size, and modification and change times
 * (npm sets every installed file's modification time to one fixed date; no one can set a change
 * time). Tried before without these (decisions 55, withdrawn); see decisions 67.
 *
 * CRUCIBLE_COMPILE_CACHE=0 turns it off (to measure what it saves).
 */
export function useCompileCache(cliDir: string): void {
  if (process.env['CRUCIBLE_COMPILE_CACHE'] === '0') return;
  const cacheRoot = path.join(cliDir, '.compile-cache');
  const official = (Module as unknown as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache;
  if (typeof official === 'function') {
    // Node checks its cache against the source itself; the folder is held to the same rule as below.
    if (existsSync(cacheRoot) && !trustedFolder(cacheRoot, cliDir)) return;
    try {
      official(cacheRoot);
    } catch {
      // A cache is a speed-up: without one the command runs as before.
    }
    return;
  }
  const loader = Module as unknown as CommonJsLoader;
  if (typeof loader.prototype._compile !== 'function' || typeof loader.wrap !== 'function') return;
  const chunksDir = path.join(cliDir, 'chunks') + path.sep;
  // One folder per V8, machine and set of Node options: V8 turns down a cache made by another, or
  // made under other V8 flags, and starts that alternate (NODE_OPTIONS set for some) would
  // otherwise write each other's caches over at every exit.
  const cacheDir = path.join(cacheRoot, `v8-${process.versions.v8}-${process.arch}-${optionsKey()}`);
  const toWrite: Array<{ script: vm.Script; file: string; stamp: Buffer }> = [];
  const compileWithoutCache = loader.prototype._compile;
  let readable: boolean | undefined;
  loader.prototype._compile = function compileChunk(this: CommonJsModule, content: string, filename: string, ...rest: unknown[]): unknown {
    // A chunk that imports an ES module (the model SDKs, with import()) is left to Node: a script
    // compiled here would need Node 20's experimental default-loader option for that, which warns.
    if (!filename.startsWith(chunksDir) || DYNAMIC_IMPORT.test(content)) return compileWithoutCache.call(this, content, filename, ...rest);
    const file = path.join(cacheDir, `${path.basename(filename)}.v8`);
    const stamp = stampOf(filename);
    readable ??= [cacheRoot, cacheDir].every((dir) => trustedFolder(dir, cliDir));
    const cached = stamp && readable ? readCache(file, stamp) : undefined;
    const script = new vm.Script(loader.wrap(content), { filename, cachedData: cached });
    if (stamp && (cached === undefined || script.cachedDataRejected === true)) {
      if (toWrite.length === 0) process.once('exit', () => writeCaches(cacheDir, toWrite));
      toWrite.push({ script, file, stamp });
    }
    const wrapper = script.runInThisContext({ displayErrors: true }) as ModuleWrapper;
    return wrapper.call(this.exports, this.exports, requireFor(this, loader), this, filename, path.dirname(filename));
  };
}

/** A short hash (FNV-1a, 32 bits) of the options Node was started with: no crypto module at start-up. */
function optionsKey(): string {
  const text = `${process.execArgv.join('\0')}\0${process.env['NODE_OPTIONS'] ?? ''}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** What of Node's CommonJS loader this uses: there since Node 0.x, but not in its types. */
interface CommonJsLoader {
  prototype: { _compile: (this: CommonJsModule, content: string, filename: string, ...rest: unknown[]) => unknown };
  wrap(source: string): string;
  _resolveFilename(request: string, parent: CommonJsModule, isMain: boolean, options?: unknown): string;
  _cache: Record<string, unknown>;
  _extensions: Record<string, unknown>;
}
interface CommonJsModule {
  exports: unknown;
  require(id: string): unknown;
}
type ModuleWrapper = (this: unknown, exports: unknown, require: NodeJS.Require, module: CommonJsModule, filename: string, dirname: string) => unknown;

/** `require` inside a chunk, as Node makes it for a module: resolved from the chunk, sharing the module cache. */
function requireFor(module: CommonJsModule, loader: CommonJsLoader): NodeJS.Require {
  const require = ((id: string) => module.require(id)) as NodeJS.Require;
  require.resolve = Object.assign((request: string, options?: { paths?: string[] }) => loader._resolveFilename(request, module, false, options), {
    paths: (request: string) => (Module as unknown as { _resolveLookupPaths(request: string, parent: CommonJsModule): string[] | null })._resolveLookupPaths(request, module),
  });
  require.main = process.mainModule;
  require.cache = loader._cache as NodeJS.Require['cache'];
  require.extensions = loader._extensions as NodeJS.Require['extensions'];
  return require;
}

/** The chunk file's identity (device, inode, size, modification and change times), which its cache must have been written for; null if unreadable. */
function stampOf(filename: string): Buffer | null {
  try {
    const stat = statSync(filename, { bigint: true });
    const stamp = Buffer.alloc(STAMP_BYTES);
    stamp.write(MAGIC, 0, 'latin1');
    [stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs].forEach((value, i) => stamp.writeBigUInt64LE(BigInt.asUintN(64, value), 8 * (i + 1)));
    return stamp;
  } catch {
    return null;
  }
}

const MAGIC = 'crucc002';
/** import( in a chunk's text (in a string too, which only costs that chunk its cache). */
const DYNAMIC_IMPORT = /\bimport\s*\(/;
const STAMP_BYTES = 48;

/**
 * A folder another user cannot have put a cache in: a folder (not a link), writable by no group or
 * other, owned by this user or by the owner of the bundle (an install that root made, run by another).
 */
function trustedFolder(dir: string, bundleDir: string): boolean {
  try {
    const stat = lstatSync(dir);
    if (!stat.isDirectory() || (stat.mode & 0o022) !== 0) return false;
    const user = process.getuid?.();
    return user === undefined || stat.uid === user || stat.uid === statSync(bundleDir).uid;
  } catch {
    return false;
  }
}

/** The V8 data of a cache file written for this stamp, or undefined (none, or written for another file). */
function readCache(file: string, stamp: Buffer): Buffer | undefined {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return undefined;
  }
  if (data.length <= STAMP_BYTES || !data.subarray(0, STAMP_BYTES).equals(stamp)) return undefined;
  return data.subarray(STAMP_BYTES);
}

/** At exit: each new cache to a file of its own, whole or not at all (written aside, then renamed). */
function writeCaches(cacheDir: string, caches: ReadonlyArray<{ script: vm.Script; file: string; stamp: Buffer }>): void {
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o755 });
  } catch {
    // A read-only install: the next start compiles as this one did.
    return;
  }
  for (const { script, file, stamp } of caches) {
    const aside = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(aside, Buffer.concat([stamp, script.createCachedData()]), { mode: 0o644 });
      renameSync(aside, file);
    } catch {
      // A full disk: leave no part of a file behind.
      rmSync(aside, { force: true });
    }
  }
}
