// `learnsync demo`/`dev` for the learning-sample family: sample exams and user e-mails in the OLTP
// source for the demo's dates.
import type { DemoSeeder } from '../../../stack/sample-kit/demo-seeder.js';
import { seedSampleSource } from './source-data.js';

export const learningSampleSeeder: DemoSeeder = {
  name: 'learning-sample',
  async seed({ oltp, from, to, config }) {
    const r = await seedSampleSource(oltp, { from, to, examsPerDay: config.sample.examsPerDay });
    return `${r.exams.toLocaleString('en-US')} exam results, ${r.emails.toLocaleString('en-US')} user emails`;
  },
};
