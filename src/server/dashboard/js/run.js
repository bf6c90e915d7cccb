// One run: its head (state, pipeline, target, duration, Web UI link), actions for admin tokens
// (re-run the failed nodes — the ledger skips what succeeded — or force every node), the DAG beside
// a Gantt timeline, and per node its failures (the progress error and every failed ledger attempt)
// and, for admin tokens, its rejects (reason counts and sample rows). A backfill shows its dates.
import { actionButton, startRun } from './actions.js';
import { backfillSection } from './backfill.js';
import { dagSvg, ganttSvg, stateLegend } from './dag.js';
import { api, app, badge, fmtInt, fmtMs, fmtTime, h, section, table, whoami } from './lib.js';

function rejectsView(job, date) {
  const out = h('div', { class: 'rejects', 'data-rejects': job });
  const button = h('button', { type: 'button', 'data-show-rejects': job }, 'rejects');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const q = new URLSearchParams({ job, ...(date && { date }) });
      const r = await api(`/api/dashboard/rejects?${q}`);
      out.replaceChildren(
        r.reasons.length
          ? table(
              ['reason', 'rows'],
              r.reasons.map((x) =>
                h('tr', {}, h('td', { class: 'wrap' }, x.reason), h('td', { class: 'num' }, fmtInt(x.rows))),
              ),
              { class: 'reject-reasons' },
            )
          : h('p', { class: 'muted' }, 'No rejects stored for this date.'),
        r.samples.length
          ? h(
              'details',
              { open: 'open' },
              h('summary', {}, `first ${r.samples.length} rejected rows`),
              h('pre', { class: 'samples' }, r.samples.map((s) => `${s.reason}: ${JSON.stringify(s.raw)}`).join('\n')),
            )
          : null,
      );
    } catch (err) {
      out.replaceChildren(h('span', { class: 'error' }, err.message));
    }
  });
  return [button, out];
}

function nodeRows(run, admin) {
  return run.dag.nodes.map((n) => {
    const failures = run.jobs.filter((j) => j.job === n.id && j.status === 'FAILED');
    // A node retrying right now (Temporal's pending activity): its last failure and the next attempt.
    const retrying = n.retrying
      ? [
          `retrying: attempt ${n.retrying.attempt}` +
            (n.retrying.nextRetryAt ? `, next ${fmtTime(n.retrying.nextRetryAt)}` : '') +
            (n.retrying.givesUpAt ? `, gives up ${fmtTime(n.retrying.givesUpAt)}` : '') +
            `: ${n.retrying.lastFailure ?? 'failed'}`,
        ]
      : [];
    const errors = [
      ...retrying,
      ...(n.error ? [n.error] : []),
      ...failures.map((j) => `attempt ${j.attempt ?? '?'} at ${fmtTime(j.startedAt)}: ${j.error ?? 'failed'}`),
    ];
    return h(
      'tr',
      { 'data-node-row': n.id },
      h('td', {}, n.id),
      h('td', {}, badge(n.state)),
      h('td', { class: 'num' }, fmtInt(n.rows)),
      h('td', { class: 'num' }, fmtInt(n.rejected)),
      h('td', { class: 'num' }, fmtMs(n.durationMs)),
      h(
        'td',
        { class: 'error wrap', 'data-failures': n.id },
        errors.length
          ? h(
              'ul',
              { class: 'failures' },
              [...new Set(errors)].map((e) => h('li', {}, e)),
            )
          : '',
      ),
      h('td', { class: 'wrap' }, admin && n.rejected > 0 ? rejectsView(n.id, run.targetDate) : ''),
    );
  });
}

function runActions(run) {
  const pipeline = run.pipeline;
  const date = run.targetDate;
  const body = date ? { date } : {};
  const what = `${pipeline}${date ? ` for ${date}` : ''}`;
  return section(
    'Actions',
    h(
      'div',
      { class: 'actions' },
      actionButton(
        'Re-run failed nodes',
        () =>
          `Start ${what} again? Nodes that succeeded are skipped (the ledger has them); failed and unrun nodes run.`,
        () => startRun(pipeline, body),
        { action: 'rerun-failed' },
      ),
      actionButton(
        'Force re-run',
        () => `Start ${what} with force: every node runs again?`,
        () => startRun(pipeline, { ...body, force: true }),
        { action: 'force' },
      ),
    ),
  );
}

export async function runPage(id) {
  const [run, me] = await Promise.all([api(`/api/runs/${encodeURIComponent(id)}`), whoami()]);
  const admin = me.role === 'admin';
  const head = h(
    'p',
    {},
    badge(run.status),
    ` ${run.kind} of ${run.pipeline ?? '?'}${run.targetDate ? ` for ${run.targetDate}` : ''}, started ${fmtTime(run.startTime)}`,
    run.durationMs !== null ? `, took ${fmtMs(run.durationMs)}` : '',
    run.webUrl ? [' · ', h('a', { href: run.webUrl, target: '_blank', rel: 'noopener' }, 'Temporal Web UI')] : null,
    // During a rollout: which worker build (LEARNSYNC_BUILD_ID) completed this run's latest workflow task.
    run.workerBuildId
      ? h('span', { 'data-worker-build': run.workerBuildId }, ` · worker build ${run.workerBuildId}`)
      : null,
  );
  const parts = [section(run.workflowId, head)];
  if (admin && run.kind === 'run' && run.pipeline) parts.push(runActions(run));
  if (run.kind === 'backfill') parts.push(...(await backfillSection(run)));
  else if (run.dag) {
    const states = [...new Set(run.dag.nodes.map((n) => n.state))];
    parts.push(
      h(
        'div',
        { class: 'run-grid' },
        section('DAG', h('div', { id: 'dag' }, dagSvg(run.dag.nodes)), stateLegend(states)),
        section('Timeline', h('div', { id: 'gantt' }, ganttSvg(run.dag.nodes)), stateLegend(states)),
      ),
      section(
        'Nodes',
        table(['node', 'state', 'rows', 'rejected', 'time', 'failures', admin ? 'rejects' : ''], nodeRows(run, admin), {
          class: 'nodes',
        }),
      ),
    );
  } else parts.push(section('DAG', h('p', { class: 'muted' }, 'No worker answered the progress query.')));
  parts.push(
    section(
      'Ledger rows',
      table(
        ['job', 'status', 'target', 'rows', 'rejected', 'time', 'attempt', 'error'],
        run.jobs.map((j) =>
          h(
            'tr',
            {},
            h('td', {}, j.job),
            h('td', {}, badge(j.status)),
            h('td', {}, j.targetDate ?? ''),
            h('td', { class: 'num' }, fmtInt(j.rows)),
            h('td', { class: 'num' }, fmtInt(j.rejected)),
            h('td', { class: 'num' }, fmtMs(j.durationMs)),
            h('td', { class: 'num' }, j.attempt ?? ''),
            h('td', { class: 'error wrap' }, j.error ?? ''),
          ),
        ),
      ),
    ),
  );
  app.replaceChildren(...parts);
}
