// Shared by `demo` and `dev`: bring up the local stack with a worker and load the sample sources.
import { addDays, dayBefore } from '../pipelines/dates.js';
import { DEMO_SEEDERS, type DemoSeeder } from '../stack/demo-seeders.js';
import { startLocalStack } from '../stack/local-stack.js';
import { maskUrl } from '../logging.js';
import { EMBEDDED_PASSWORD } from '../stack/embedded-postgres.js';
import type { CliContext } from './types.js';

export async function startLocalSession(ctx: CliContext) {
  ctx.print('starting the local stack (whatever is already running is reused)…');
  const t0 = Date.now();
  const stack = await startLocalStack(ctx.config, ctx.logger, { worker: true });
  for (const s of stack.started) ctx.print(`  started ${s}`);
  ctx.print(`  ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return stack;
}

export async function seedSamples(
  ctx: CliContext,
  stack: Awaited<ReturnType<typeof startLocalStack>>,
  seeders: DemoSeeder[] = DEMO_SEEDERS,
) {
  const to = dayBefore(Date.now());
  const from = addDays(to, -(ctx.config.sample.days - 1));
  if (!seeders.length) return { from, to };
  ctx.print(`loading sample sources for ${from}..${to} (${seeders.map((s) => s.name).join(', ')})…`);
  for (const seeder of seeders) {
    const t = Date.now();
    const summary = await seeder.seed({
      config: ctx.config,
      oltp: stack.deps!.oltp,
      warehouse: stack.deps!.warehouse,
      sources: stack.deps!.sources,
      from,
      to,
    });
    ctx.print(`  ${seeder.name}: ${summary} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  }
  return { from, to };
}

export function describeStack(ctx: CliContext, stack: Awaited<ReturnType<typeof startLocalStack>>) {
  ctx.print(
    `Temporal:      ${stack.temporalAddress} (namespace ${ctx.config.temporal.namespace}, task queue ` +
      `${ctx.config.temporal.taskQueue})`,
  );
  if (stack.uiUrl) ctx.print(`Web UI:        ${stack.uiUrl}`);
  ctx.print(`Warehouse:     ${shown(stack.warehouseUrl)}`);
  ctx.print(`OLTP source:   ${shown(stack.oltpUrl)}`);
}

/**
 * The embedded cluster's fixed loopback password is no secret and other tools need it; a URL the user gave is masked.
 */
const shown = (url: string) => (url.includes(`:${EMBEDDED_PASSWORD}@`) ? url : maskUrl(url));
