// A stand-in for a `learnsync dev` process that dies hard: it starts the Temporal dev server (and,
// with a second argument, embedded Postgres), prints "ready", and waits to be killed.
import { startEmbeddedPostgres } from '../../src/stack/embedded-postgres.js';
import { startTemporalDevServer } from '../../src/stack/temporal-dev-server.js';
import { temporalCliPath } from '../../src/stack/tools.js';
import path from 'node:path';

const projectRoot = path.resolve(import.meta.dirname, '../..');
const [port, uiPort, pgPort, pgDir] = process.argv.slice(2);
const temporal = await startTemporalDevServer({
  cliPath: temporalCliPath(projectRoot),
  port: Number(port),
  uiPort: Number(uiPort),
});
const pg = pgPort
  ? await startEmbeddedPostgres({ dataDir: pgDir!, port: Number(pgPort), databases: [], ephemeral: true })
  : undefined;
console.log(`ready ${temporal.address} ${pg?.pid ?? ''}`);
setInterval(() => {}, 60_000);
