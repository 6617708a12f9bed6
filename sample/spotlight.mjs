// Starts Spotlight, Sentry's local development UI, on 127.0.0.1:8969 — without its CLI.
// The CLI (`spotlight`) initialises a Sentry SDK of its own that reports Spotlight's telemetry to
// sentry.io; the sample must talk to nothing but this machine, so it starts the same sidecar and
// UI from Spotlight's library entry point, where no SDK is initialised.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupSpotlight } from '@spotlightjs/spotlight';

const port = Number(process.env.SPOTLIGHT_PORT ?? 8969);
// The library entry is dist/server/main.js; the UI's build sits beside it in dist/ui.
const uiDir = fileURLToPath(new URL('../ui/', import.meta.resolve('@spotlightjs/spotlight')));

// The UI's files, as the CLI serves them: the entry page and every file of its build manifest.
const filesToServe = Object.create(null);
filesToServe['index.html'] = readFileSync(join(uiDir, 'index.html'));
const manifest = JSON.parse(readFileSync(join(uiDir, 'manifest.json'), 'utf8'));
for (const entry of Object.values(manifest)) {
  if (typeof entry?.file === 'string')
    filesToServe[entry.file] = readFileSync(join(uiDir, entry.file));
}

await setupSpotlight({ port, basePath: process.cwd(), filesToServe, isStandalone: true });
