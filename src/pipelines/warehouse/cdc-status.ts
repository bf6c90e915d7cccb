// CDC lag in `learnsync status` (text and --json) and as /metrics gauges: what the consumer last
// stored in cdc_slot_state, with an alert line when the lag is over its threshold.
import { Gauge } from 'prom-client';
import { metricsRegistry } from '../../runtime/metrics.js';
import type { StatusSection } from '../../runtime/status-section.js';
import { readCdcStatus } from './cdc.js';

export const cdcLagSeconds = new Gauge({
  name: 'learnsync_cdc_lag_seconds',
  help: 'Seconds from the source commit of the last applied change to its apply in the warehouse',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

export const cdcLagBytes = new Gauge({
  name: 'learnsync_cdc_lag_bytes',
  help: 'WAL bytes the CDC replication slot holds back on the source (not yet confirmed by the consumer)',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

export const cdcStatusSection: StatusSection = {
  title: 'Change data capture (WAREHOUSE_OLTP_CAPTURE=cdc)',
  async render(ctx) {
    const rows = await readCdcStatus(await ctx.warehouse());
    if (!rows.length) return ['not started (learnsync cdc start oltp)'];
    return rows.map(
      (r) =>
        `${r.source.padEnd(12)} slot ${r.slot}  applied ${r.appliedLsn} (${r.changesApplied} changes)  ` +
        `lag ${r.lagSeconds === null ? '?' : r.lagSeconds.toFixed(1)} s, ` +
        `${r.lagBytes === null ? '?' : r.lagBytes} bytes` +
        (r.alert ? `  ALERT ${r.alert}` : ''),
    );
  },
  async json(ctx) {
    return readCdcStatus(await ctx.warehouse());
  },
};
