#!/usr/bin/env node
// The `learnsync` bin: runs src/client.ts through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/client.ts');
process.exit(await main(process.argv.slice(2)));
