import path from 'node:path';
import { UsageError } from '../../errors.js';
import { listExamples } from '../../project/examples.js';
import { createFromExample, createScaffold } from '../../project/new-project.js';
import type { Output } from '../output.js';

export function newCommand(options: { dest: string | undefined; example: string | undefined; list: boolean }, out: Output): void {
  if (options.list) {
    const examples = listExamples();
    const width = Math.max(...examples.map((e) => e.name.length));
    const metric = (e: (typeof examples)[number]): string => `${e.metric} (${e.direction})`;
    const metricWidth = Math.max(...examples.map((e) => metric(e).length));
    out.data('Bundled examples (crucible new DEST -e NAME):');
    for (const e of examples) out.data(`  ${e.name.padEnd(width)}  ${metric(e).padEnd(metricWidth)}  ${e.description}`);
    return;
  }
  if (!options.dest) throw new UsageError('new needs a destination folder: crucible new DEST [-e EXAMPLE]  (crucible new --list shows the examples)');
  const created = options.example ? createFromExample(options.dest, options.example) : createScaffold(options.dest);
  const shown = path.relative(process.cwd(), created.dest) || '.';
  out.info(options.example ? `Created ${shown} from example ${options.example} (${created.files.length} files).` : `Created an empty project in ${shown}.`);
  out.info('Next:');
  out.info(`  cd ${shown.includes(' ') ? JSON.stringify(shown) : shown}`);
  if (!options.example) out.info('  # edit .crucible/config.yaml, .crucible/program.md, solution.js and evaluate.js');
  out.info('  crucible validate');
  out.info('  crucible run --tag run1 --agent tuner   # offline; or set agent.type for an LLM agent');
}
