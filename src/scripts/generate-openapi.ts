import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { openApiYaml } from '../openapi/document';

// `npm run openapi` regenerates the committed openapi.yaml; a test fails when it is stale.
const target = path.resolve(__dirname, '../../openapi.yaml');
writeFileSync(target, openApiYaml());
process.stdout.write(`wrote ${target}\n`);
