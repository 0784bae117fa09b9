/** TypeScript types of the API, generated from openapi.yaml by openapi-typescript (used by gen-openapi and its test). */
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';

export const API_TYPES_FILE = 'src/api-client/schema.ts';

const HEADER = '// Generated from openapi.yaml by openapi-typescript (`npm run openapi`); do not edit.\n\n';
const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier('Blob'));

/** The types of the document in `yamlText`; uploaded files (`format: binary`) are Blobs (Files, with their names). */
export async function generateApiTypes(yamlText: string): Promise<string> {
  const ast = await openapiTS(yamlText, {
    // The health probes' missing 4xx is an accepted exception (.redocly.lint-ignore.yaml).
    silent: true,
    transform: (schema) => (schema.format === 'binary' ? BLOB : undefined),
  });
  return HEADER + astToString(ast);
}
