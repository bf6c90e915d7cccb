// What the server is built from: connections and config from the edge (the CLI or a test), and
// the seam through which another family mounts its routes behind the auth hook.
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsync, onRequestAsyncHookHandler } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Pool } from '../connectors/postgres.js';
import type { LearnerProfileService } from '../pipelines/learning-roi/learner-profile.js';
import type { ErrorContext } from '../runtime/error-reporting.js';
import type { TokenRole } from './tokens.js';

/** A family's routes mounted under a prefix, every one behind `preHandler` (the auth hook for its role). */
export interface MountedPlugin {
  prefix: string;
  role: TokenRole;
  plugin: FastifyPluginAsync<{ preHandler: onRequestAsyncHookHandler }>;
}

export interface ServerDeps {
  config: Config;
  logger: Logger;
  warehouse: Pool;
  temporal: () => Promise<Client>;
  /** Live learner reads; undefined → that route answers 503. */
  profiles?: LearnerProfileService;
  /** Base URL of the Temporal Web UI, for links. */
  uiUrl?: string;
  plugins?: MountedPlugin[];
  /** Where failures worth a human's attention go (the error tracker); logging happens anyway. */
  reportError?: (err: Error, context: ErrorContext) => void;
}
