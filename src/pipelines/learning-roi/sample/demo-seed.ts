// `learnsync demo` / `dev` for the learning ROI pipeline: in sample mode, start the sample Kusto
// server now (so the run does not pay for building the sample) and forget earlier demos'
// watermarks, so the demo run reads the whole sample history again. With real clusters, nothing.
import { learningRoi } from '../definition.js';
import type { DemoSeeder } from '../../../stack/sample-kit/demo-seeder.js';
import { sampleKustoServer } from './source.js';

const n = (x: number) => x.toLocaleString('en-US');

export const learningRoiSeeder: DemoSeeder = {
  name: learningRoi.name,
  async seed({ config, warehouse }) {
    if (config.kusto.mode === 'live')
      return `Kusto configured (${config.kusto.analyticsClusterUrl}, ${config.kusto.examClusterUrl}): no sample`;
    // On SAMPLE_KUSTO_PORT when set: the worker's source clients share this server (one per scale).
    const { server, sample } = await sampleKustoServer(config.learningRoi.sampleScale, config.sampleApi.kustoPort);
    await warehouse.query(`DELETE FROM etl_cursors WHERE name LIKE 'kusto:%:loaded_through'`);
    const c = sample.counts();
    return (
      `sample Kusto at ${server.url}: ${n(c.aceExams + c.pearsonExams)} exams (${n(c.aceExams)} FY22-25, ` +
      `${n(c.pearsonExams)} FY26), ` +
      `${n(c.verifiedEmails)} verified e-mails, ${n(c.signups)} signups, ${n(c.usageRows)} usage rows, ` +
      `${n(c.pageViewEvents)} page-view events`
    );
  },
};
