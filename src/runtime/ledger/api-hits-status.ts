// The `learnsync status` section of the API sources: what the latest run of each API job spent,
// per endpoint, and the rate-limit budget it left.
import type { StatusContext, StatusSection } from '../status-section.js';
import { latestApiHits } from './api-hits.js';

export const apiHitsSection: StatusSection = {
  title: 'API hits (latest run of each API job)',
  async render(ctx: StatusContext) {
    const rows = await latestApiHits(await ctx.warehouse());
    if (!rows.length) return ['none yet — try `learnsync run school-api-nightly --force`'];
    const lines = [
      `${'job'.padEnd(30)} ${'endpoint'.padEnd(32)} ${'calls'.padStart(6)} ${'304s'.padStart(5)} ` +
        `${'retries'.padStart(7)} ${'throttled'.padStart(9)}  budget left`,
    ];
    for (const r of rows) {
      const budget =
        r.rate_limit_remaining === null
          ? '-'
          : `${r.rate_limit_remaining}${r.rate_limit_limit ? `/${r.rate_limit_limit}` : ''}`;
      lines.push(
        `${r.job_name.padEnd(30)} ${r.endpoint.padEnd(32)} ${String(r.calls).padStart(6)} ` +
          `${String(r.cache_hits).padStart(5)} ${String(r.retries).padStart(7)} ${String(r.throttled).padStart(9)} ` +
          ` ${budget}${r.status && r.status !== 'SUCCESS' ? `  (${r.status})` : ''}`,
      );
    }
    return lines;
  },
  async json(ctx: StatusContext) {
    return latestApiHits(await ctx.warehouse());
  },
};
