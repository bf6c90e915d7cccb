// Data-quality gates after the learning ROI load. Each gate passes, or — by its configured mode —
// warns or fails:
//   row_count:<dataset>        rows within ±band of the previous successful sync of that dataset
//   identity_resolution_rate   share of learners with a dotcom_id ≥ the configured minimum (seed: ~69%)
//   score_coverage_fy22_25     share of FY22-25 exams with a score computed from their answers
// Results go to etl_quality_gates (committed even when the gate then fails the job, so the ledger
// keeps why) and to sync_status.json; a failing gate fails the node with a non-retryable error.
import type { GateMode, LearningRoiConfig } from '../../config.js';
import type { Pool, PoolClient } from '../../connectors/postgres.js';
import { ValidationError } from '../../errors.js';
import type { NodeInput, NodeResult } from '../types.js';
import type { ActivityDeps } from '../../runtime/deps.js';
import { runLedgeredJob } from '../../runtime/ledger/job-runner.js';
import { DATASETS, PIPELINE_NAME, writeSyncStatus } from './status.js';
import { requireDate } from '../../runtime/require-date.js';
import { workflowRunKey } from '../../runtime/activity-context.js';

export interface GateResult {
  gate: string;
  mode: GateMode;
  status: 'pass' | 'warn' | 'fail';
  observed: number | null;
  expected: string;
  note: string;
  details?: Record<string, unknown>;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function verdict(ok: boolean, mode: GateMode): GateResult['status'] {
  return ok ? 'pass' : mode;
}

export async function evaluateGates(db: Pool | PoolClient, gates: LearningRoiConfig['gates']): Promise<GateResult[]> {
  const out: GateResult[] = [];
  for (const dataset of DATASETS) {
    const { rows } = await db.query<{ rows: string; synced_at: Date }>(
      `SELECT rows, synced_at FROM learning_roi.dataset_syncs WHERE dataset = $1 AND status = 'success' ORDER BY id DESC
        LIMIT 2`,
      [dataset],
    );
    const gate = `row_count:${dataset}`;
    const expected = `within ±${pct(gates.rowBand)} of the previous sync`;
    const [cur, prev] = rows.map((r) => Number(r.rows));
    if (cur === undefined) {
      out.push({
        gate,
        mode: gates.rowMode,
        status: gates.rowMode,
        observed: null,
        expected,
        note: 'the dataset has never been exported',
      });
    } else if (prev === undefined) {
      out.push({
        gate,
        mode: gates.rowMode,
        status: 'pass',
        observed: cur,
        expected,
        note: `${cur} rows; first sync, nothing to compare with`,
      });
    } else {
      const change = prev === 0 ? (cur === 0 ? 0 : Infinity) : (cur - prev) / prev;
      const ok = Math.abs(change) <= gates.rowBand;
      out.push({
        gate,
        mode: gates.rowMode,
        status: verdict(ok, gates.rowMode),
        observed: cur,
        expected,
        note:
          `${cur} rows vs ${prev} at the previous sync ` +
          `(${change === Infinity ? 'from zero' : `${change >= 0 ? '+' : ''}${pct(change)}`})`,
        details: { previous: prev, change: Number.isFinite(change) ? change : null },
      });
    }
  }

  const id = await db.query<{ learners: number; resolved: number }>(
    `SELECT count(*)::int AS learners, count(*) FILTER (WHERE dotcom_id > 0)::int AS resolved
      FROM learning_roi.learner_identities`,
  );
  const { learners, resolved } = id.rows[0]!;
  const rate = learners ? resolved / learners : 0;
  out.push({
    gate: 'identity_resolution_rate',
    mode: gates.identityMode,
    status: verdict(learners > 0 && rate >= gates.identityMinRate, gates.identityMode),
    observed: learners ? Math.round(rate * 10_000) / 10_000 : null,
    expected: `≥ ${pct(gates.identityMinRate)}`,
    note: learners ? `${resolved} of ${learners} learners have a dotcom_id (${pct(rate)})` : 'no learners at all',
    details: { learners, resolved },
  });

  const sc = await db.query<{ exams: number; scored: number }>(
    `SELECT count(*)::int AS exams, count(score)::int AS scored FROM learning_roi.individual_exams
      WHERE exam_source = 'ace'`,
  );
  const { exams, scored } = sc.rows[0]!;
  const coverage = exams ? scored / exams : 1;
  out.push({
    gate: 'score_coverage_fy22_25',
    mode: gates.scoreMode,
    status: verdict(coverage >= gates.scoreCoverageMin, gates.scoreMode),
    observed: exams ? Math.round(coverage * 10_000) / 10_000 : null,
    expected: `≥ ${pct(gates.scoreCoverageMin)}`,
    note: exams
      ? `${scored} of ${exams} FY22-25 exams have a score computed from their answers (${pct(coverage)})`
      : 'no FY22-25 exams loaded',
    details: { exams, scored },
  });
  return out;
}

export function createLearningRoiQualityActivities({ warehouse, config, outputDir, logger }: ActivityDeps) {
  return {
    async checkLearningRoiQuality(input: NodeInput): Promise<NodeResult> {
      const date = requireDate(input);
      return runLedgeredJob(
        warehouse,
        { jobName: input.nodeId, pipeline: input.pipeline, targetDate: date, force: input.force },
        async (tx) => {
          const results = await evaluateGates(tx, config.learningRoi.gates);
          const runId = workflowRunKey();
          // Through the pool, not tx: a failing gate rolls tx back, and its result must stay.
          await warehouse.query(
            `INSERT INTO etl_quality_gates (pipeline, job_name, target_date, run_id, gate, mode, status, observed,
                expected, note, details)
           SELECT $1, $2, $3, $4, g.gate, g.mode, g.status, g.observed, g.expected, g.note, g.details
             FROM jsonb_to_recordset($5::jsonb) AS g(gate text, mode text, status text, observed float8, expected text,
               note text, details jsonb)`,
            [PIPELINE_NAME, input.nodeId, date, runId, JSON.stringify(results)],
          );
          await writeSyncStatus(warehouse, outputDir);
          const failed = results.filter((r) => r.status === 'fail');
          const warned = results.filter((r) => r.status === 'warn');
          for (const w of warned) logger.warn({ gate: w.gate, note: w.note }, 'learning-roi quality gate warning');
          if (failed.length) {
            throw new ValidationError(
              `quality gates failed: ${failed.map((f) => `${f.gate} (${f.note}; expected ${f.expected})`).join('; ')}`,
            );
          }
          return {
            processed: results.length,
            detail: {
              passed: results.length - warned.length,
              warned: warned.length,
              failed: 0,
              runId,
              ...(warned.length ? { warnings: warned.map((w) => w.gate).join(', ') } : {}),
            },
          };
        },
      );
    },
  };
}
