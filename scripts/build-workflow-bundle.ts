// `npm run build:bundle`: bundles every workflow once (webpack, via the Temporal SDK) into
// dist/workflow-bundle.js, so a production worker starts without bundling at boot. The worker
// loads it when NODE_ENV=production or WORKFLOW_BUNDLE_PATH is set (see src/worker.ts).
// Usage: tsx scripts/build-workflow-bundle.ts [output path, default dist/workflow-bundle.js]
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const root = path.resolve(import.meta.dirname, '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'dist', 'workflow-bundle.js'));

const noop = () => {};
const { code } = await bundleWorkflowCode({
  workflowsPath: path.join(root, 'src', 'workflows', 'index.ts'),
  logger: { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop },
});
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, code);
console.log(`workflow bundle: ${path.relative(process.cwd(), out) || out} (${Math.round(code.length / 1024)} KiB)`);
