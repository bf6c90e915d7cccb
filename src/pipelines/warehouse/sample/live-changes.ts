// Sample mode only (`learnsync dev` with WAREHOUSE_OLTP_CAPTURE=cdc): keeps the sample OLTP source
// changing — a learner's grade or language every few seconds, each in its own transaction — so a
// person watching `learnsync cdc status`, the dashboard or dw.dim_learner sees CDC lag and SCD2
// versions move. Never imported by production code.
import type { Pool } from '../../../connectors/postgres.js';

const LANGUAGES = ['en', 'es', 'fr', 'hi', 'pt'];

export function startSampleOltpChanges(oltp: Pool, perMinute: number, onError?: (err: Error) => void): () => void {
  let n = 0;
  const timer = setInterval(
    () => {
      n++;
      const sql =
        n % 2 === 0
          ? `UPDATE platform.learners SET grade_level = coalesce(grade_level, 0) % 12 + 1, updated_at = now()
              WHERE learner_id = (SELECT learner_id FROM platform.learners ORDER BY random() LIMIT 1)`
          : `UPDATE platform.learners SET preferred_language = $1, updated_at = now()
              WHERE learner_id = (SELECT learner_id FROM platform.learners ORDER BY random() LIMIT 1)`;
      oltp.query(sql, n % 2 === 0 ? [] : [LANGUAGES[n % LANGUAGES.length]]).catch((err: Error) => onError?.(err));
    },
    Math.max(100, Math.round(60_000 / Math.max(1, perMinute))),
  );
  timer.unref();
  return () => clearInterval(timer);
}
