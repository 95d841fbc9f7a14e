import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A stack trace of the bundled command, its frames rewritten to the TypeScript files they came
 * from (src/…/x.ts:line:column), so a crash report names our files.
 *
 * Node can do this itself (--enable-source-maps), but then it reads and parses the map of every
 * module it loads, on every start; here the maps are read only on the internal-error path. Only
 * frames ("    at …" lines) of files inside `bundleDir` are mapped: a message may quote any path,
 * and no map is read from outside crucible's own folder. A frame whose file has no readable map,
 * or a position the map does not cover, is left as it was.
 */
export function mapStack(stack: string, bundleDir: string, readMap: (file: string) => string = (file) => readFileSync(file, 'utf8')): string {
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (file: string): SourceMap | null => {
    if (!maps.has(file)) {
      try {
        maps.set(file, new SourceMap(JSON.parse(readMap(`${file}.map`)) as SourceMapPayload));
      } catch {
        maps.set(file, null);
      }
    }
    return maps.get(file) ?? null;
  };
  const inside = path.resolve(bundleDir) + path.sep;
  const mapFrame = (frame: string, location: string, line: string, column: string): string => {
    let file: string;
    try {
      file = location.startsWith('file://') ? fileURLToPath(location) : location;
    } catch {
      return frame;
    }
    if (!file.startsWith(inside)) return frame;
    const entry = mapOf(file)?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !('originalSource' in entry) || !entry.originalSource) return frame;
    const source = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : path.resolve(path.dirname(file), entry.originalSource);
    return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  };
  // "    at fn (file:///…/x.js:12:34)" or "    at file:///…/x.js:12:34" (an ES module), and the
  // same with a plain path (CommonJS, which the command's bundle is).
  return stack
    .split('\n')
    .map((text) => (/^\s+at /.test(text) ? text.replace(/((?:file:\/\/)?\/[^\s()]+?\.[cm]?js):(\d+):(\d+)/g, mapFrame) : text))
    .join('\n');
}
