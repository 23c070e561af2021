// `bun run api-client:generate [URL]`: writes the API's TypeScript types from a running gateway's
// /openapi.json (default http://127.0.0.1:3000, or API_URL) into generated/poolwise-api.ts.
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { GENERATED_TYPES_PATH, openApiTypesSource } from './openapi-types-source.ts';

const base = process.argv[2] ?? process.env.API_URL ?? 'http://127.0.0.1:3000';
const response = await fetch(new URL('/openapi.json', base));
if (!response.ok) throw new Error(`${base}/openapi.json answered ${response.status}`);
const document = (await response.json()) as Record<string, unknown>;
if (document['x-unavailable-services']) {
  throw new Error(`the document lacks ${document['x-unavailable-services']} (a worker did not answer): not written`);
}
await Bun.write(join(REPOSITORY_ROOT, GENERATED_TYPES_PATH), await openApiTypesSource(document));
console.log(`wrote ${GENERATED_TYPES_PATH} from ${base}/openapi.json`);
