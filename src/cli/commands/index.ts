// Every `learnsync` command. One file per command; add new ones here.
import type { CliCommand } from '../types.js';
import { command as backfill } from './backfill.js';
import { command as cdc } from './cdc.js';
import { command as demo } from './demo.js';
import { command as dev } from './dev.js';
import { command as plan } from './plan.js';
import { command as profile } from './profile.js';
import { command as run } from './run.js';
import { command as runJob } from './run-job.js';
import { command as schedules } from './schedules.js';
import { command as serve } from './serve.js';
import { command as status } from './status.js';
import { command as tokens } from './tokens.js';

export const COMMANDS: CliCommand[] = [
  demo,
  dev,
  run,
  runJob,
  backfill,
  status,
  schedules,
  plan,
  profile,
  serve,
  tokens,
  cdc,
];
