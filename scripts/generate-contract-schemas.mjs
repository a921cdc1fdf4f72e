// Writes the JSON Schemas derived from the zod schemas: the workflow's contracts, where the
// workflow's checker imports them (src/workflows/contract-schemas.json) and where the build put its
// copy (dist/); and the files users write (keel.config.json, scenarios, plans) in schemas/, for
// editors. Run by `npm run build` after tsc; a changed zod schema is picked up by the next build.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const { workflowContractSchemasText } = require(`${root}dist/shared/contract-schemas.js`);
const { userFileSchemas } = require(`${root}dist/config.js`);

/** Writes the text where it differs from what is there; says so for the files people see (not dist/). */
function writeIfChanged(path, text, what) {
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // Not written yet.
  }
  if (current === text) return;
  writeFileSync(path, text);
  if (what) console.log(`keel: wrote ${path.slice(root.length)} (${what})`);
}

const contracts = workflowContractSchemasText();
writeIfChanged(`${root}src/workflows/contract-schemas.json`, contracts, "the workflow's contracts, from the zod schemas");
writeIfChanged(`${root}dist/workflows/contract-schemas.json`, contracts);

mkdirSync(`${root}schemas`, { recursive: true });
for (const [name, schema] of Object.entries(userFileSchemas())) writeIfChanged(`${root}schemas/${name}`, `${JSON.stringify(schema, null, 2)}\n`, 'from the zod schemas');
