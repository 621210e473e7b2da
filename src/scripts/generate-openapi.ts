import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { openApiYaml } from '../openapi/document';
import { apiRoutes } from '../routes/api';

// `npm run openapi` regenerates the committed openapi.yaml; a test fails when it is stale.
const target = path.resolve(__dirname, '../../openapi.yaml');
writeFileSync(target, openApiYaml(apiRoutes));
process.stdout.write(`wrote ${target}\n`);
