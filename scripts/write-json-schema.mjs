// Regenerates schema/crucible.schema.json from the zod schema (run through `npm run schema`).
import { writeFileSync } from 'node:fs';
import { renderConfigJsonSchema } from '../dist/config/json-schema.js';

const target = new URL('../schema/crucible.schema.json', import.meta.url);
writeFileSync(target, renderConfigJsonSchema());
console.log(`wrote ${target.pathname}`);
