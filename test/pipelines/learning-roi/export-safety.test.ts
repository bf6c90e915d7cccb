// Exports that are safe to open: a text cell a spreadsheet would run as a formula (= + - @, tab,
// CR) gets a leading ' unless CSV_NEUTRALISE_FORMULAS=false; numbers stay numbers; every output
// file is created 0640 (owner and group only) and its folder 0750; the TypeScript csvCell and the
// SQL export agree on what they neutralise.
import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCsv } from '../../../src/pipelines/learning-roi/export.js';
import { csvCell } from '../../../src/connectors/csv.js';
import { writeFileAtomic } from '../../../src/connectors/files.js';
import { loadConfig } from '../../../src/config.js';
import { withTransaction } from '../../../src/connectors/postgres.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';

let db: TestDatabases;
let out: string;
const mode = (file: string) => statSync(file).mode & 0o777;

beforeAll(async () => {
  db = await createTestDatabases();
  out = mkdtempSync(path.join(tmpdir(), 'roi-safe-'));
  await db.warehouse.query(`INSERT INTO learning_roi.individual_exams
    (exam_source, attempt_id, email, dotcom_id, exam_code, exam_name, exam_date, fiscal_year, passed, score,
     score_method) VALUES
    ('ace', '=1+1', 'a@example.com', 0, '+GH-200', '=HYPERLINK("http://evil.example","click")', '2024-01-01T00:00:00Z', 'FY24', true, -5, 'reported'),
    ('ace', '@SUM(A1)', 'b@example.com', 7, '-GH-100', E'\\tTabbed', '2024-01-02T00:00:00Z', 'FY24', false, 12.5,
     'reported'),
    ('pearson', 'P1', 'c@example.com', 8, 'GH-300', E'\\rCarriage', '2024-01-03T00:00:00Z', 'FY24', true, NULL, NULL),
    ('pearson', 'P2', 'd@example.com', 9, 'GH-900', 'Plain = fine', '2024-01-04T00:00:00Z', 'FY24', true, 70,
     'reported')`);
});
afterAll(async () => {
  await db?.close();
});

const exported = (neutraliseFormulas: boolean) =>
  withTransaction(db.warehouse, async (tx) => {
    await tx.query(`SET LOCAL TIME ZONE 'UTC'`);
    const { file } = await exportCsv(tx, out, 'individual_exams', { neutraliseFormulas });
    return { file, text: readFileSync(file, 'utf8') };
  });

describe('CSV exports cannot become formulas', () => {
  it('neutralises text cells starting with = + - @ tab CR, and leaves numbers and inner signs alone', async () => {
    const { text } = await exported(true);
    expect(text.split('\n')).toEqual([
      'exam_source,attempt_id,email,dotcom_id,exam_code,exam_name,exam_date,fiscal_year,passed,score,score_method,' +
        'correct_answers,incorrect_answers',
      `ace,'=1+1,a@example.com,0,'+GH-200,"'=HYPERLINK(""http://evil.example"",""click"")",2024-01-01T00:00:00Z,FY24,true,-5.0,reported,,`,
      `ace,'@SUM(A1),b@example.com,7,'-GH-100,'\tTabbed,2024-01-02T00:00:00Z,FY24,false,12.5,reported,,`,
      `pearson,P1,c@example.com,8,GH-300,"'\rCarriage",2024-01-03T00:00:00Z,FY24,true,,,,`,
      'pearson,P2,d@example.com,9,GH-900,Plain = fine,2024-01-04T00:00:00Z,FY24,true,70.0,reported,,',
      '',
    ]);
  });

  it('writes raw values for machine consumers with CSV_NEUTRALISE_FORMULAS=false', async () => {
    expect(loadConfig({ CSV_NEUTRALISE_FORMULAS: 'false' }).outputs.neutraliseFormulas).toBe(false);
    expect(loadConfig({}).outputs.neutraliseFormulas).toBe(true);
    const { text } = await exported(false);
    expect(text.split('\n')[1]).toBe(
      `ace,=1+1,a@example.com,0,+GH-200,"=HYPERLINK(""http://evil.example"",""click"")",2024-01-01T00:00:00Z,FY24,true,-5.0,reported,,`,
    );
  });

  it('csvCell neutralises exactly what the SQL export does', () => {
    const cells = [
      '=1+1',
      '+GH-200',
      '-GH-100',
      '@SUM(A1)',
      '\tTabbed',
      '\rCarriage',
      'Plain = fine',
      'a@example.com',
      '',
    ];
    expect(cells.map((c) => csvCell(c))).toEqual([
      "'=1+1",
      "'+GH-200",
      "'-GH-100",
      "'@SUM(A1)",
      "'\tTabbed",
      `"'\rCarriage"`,
      'Plain = fine',
      'a@example.com',
      '',
    ]);
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell('=x', { neutralise: false })).toBe('=x');
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
  });
});

describe('output files are not world-readable', () => {
  it('creates CSVs and atomically written files 0640, folders 0750, and replaces a laxer old file', async () => {
    const previous = process.umask(0o022);
    try {
      const { file } = await exported(true);
      expect(mode(file)).toBe(0o640);
      const json = path.join(out, 'nested', 'status.json');
      writeFileSync(path.join(out, 'old.json'), '{}');
      chmodSync(path.join(out, 'old.json'), 0o644);
      await writeFileAtomic(path.join(out, 'old.json'), '{"new":true}\n');
      expect(mode(path.join(out, 'old.json'))).toBe(0o640);
      await writeFileAtomic(json, '{}\n');
      expect(mode(json)).toBe(0o640);
      expect(mode(path.dirname(json))).toBe(0o750);
    } finally {
      process.umask(previous);
    }
  });
});
