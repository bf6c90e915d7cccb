#!/usr/bin/env node
// The `learnsync` bin: runs src/client.ts through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';
register();
const { runCli } = await import('../src/client.ts');
await runCli(process.argv.slice(2));
