/** Generates openapi.yaml from the route schemas (the committed file is checked fresh by a test). */
import { loadConfig } from './config/index.js';
import { buildApp } from './app.js';
import { unloadedServices } from './services.js';
import { createKeyRing } from './http/plugins/auth.js';
import { jobRouteSet } from './http/extra-routes.js';

export async function generateOpenApiYaml(): Promise<string> {
  // Defaults only: the document must not depend on the machine's environment.
  const config = loadConfig({}, '/');
  const { app } = await buildApp({ services: unloadedServices(config), keyRing: createKeyRing([]), extraRoutes: jobRouteSet() });
  await app.ready();
  const yaml = app.swagger({ yaml: true });
  await app.close();
  return yaml;
}
