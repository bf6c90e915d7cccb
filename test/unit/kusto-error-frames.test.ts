// A failed query's v2 frames as Kusto writes them: the QueryCompletionInformation row of level
// Error carries the boilerplate Payload {"Count":1,"Text":"Querycompletedsuccessfully"}; the
// service's own words are in DataSetCompletion's OneApiErrors or, failing those, in the row's
// StatusCodeName. The error reported must be those words.
import { describe, expect, it } from 'vitest';
import { parseKustoJson, readPrimaryResult } from '../../src/connectors/kusto/frames.js';

const INFO_COLUMNS = [
  'Timestamp',
  'ClientRequestId',
  'ActivityId',
  'SubActivityId',
  'ParentActivityId',
  'Level',
  'LevelName',
  'StatusCode',
  'StatusCodeName',
  'EventType',
  'EventTypeName',
  'Payload',
].map((ColumnName) => ({ ColumnName, ColumnType: 'string' }));
const SEMANTIC = "Semantic error: 'where' operator: Failed to resolve column or scalar expression named 'nope'";

function frames(withCompletionErrors: boolean): unknown[] {
  return [
    { FrameType: 'DataSetHeader', IsProgressive: false, Version: 'v2.0' },
    {
      FrameType: 'DataTable',
      TableId: 1,
      TableKind: 'PrimaryResult',
      TableName: 'PrimaryResult',
      Columns: [],
      Rows: [],
    },
    {
      FrameType: 'DataTable',
      TableId: 2,
      TableKind: 'QueryCompletionInformation',
      TableName: 'QueryCompletionInformation',
      Columns: INFO_COLUMNS,
      Rows: [
        [
          '2026-01-01T00:00:00Z',
          'learnsync;1',
          'a',
          'b',
          'c',
          2,
          'Error',
          -2133196797,
          `SemanticException: ${SEMANTIC}`,
          4,
          'QueryInfo',
          '{"Count":1,"Text":"Querycompletedsuccessfully"}',
        ],
      ],
    },
    {
      FrameType: 'DataSetCompletion',
      HasErrors: withCompletionErrors,
      Cancelled: false,
      ...(withCompletionErrors && {
        OneApiErrors: [
          {
            error: {
              code: 'General_BadRequest',
              message: 'Request is invalid and cannot be executed.',
              '@type': 'Kusto.Data.Exceptions.SemanticException',
              '@message': SEMANTIC,
              '@permanent': true,
            },
          },
        ],
      }),
    },
  ];
}

function errorOf(raw: unknown[]): Error {
  try {
    readPrimaryResult(raw, 'Kusto query probe');
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('v2 error frames report the service’s own text', () => {
  it('takes the DataSetCompletion OneApiErrors text, not the completion-info boilerplate', () => {
    const e = errorOf(frames(true));
    expect(e.message).toContain(SEMANTIC);
    expect(e.message).not.toMatch(/Querycompletedsuccessfully/);
    expect(e.name).toBe('ValidationError');
  });

  it('with only the completion-info row, takes its StatusCodeName', () => {
    const e = errorOf(frames(false));
    expect(e.message).toContain(SEMANTIC);
    expect(e.message).not.toMatch(/Querycompletedsuccessfully/);
  });
});

function infoRow(level: number, levelName: string, code: number, name: string, payload: string): unknown[] {
  return ['2026-01-01T00:00:00Z', 'learnsync;1', 'a', 'b', 'c', level, levelName, code, name, 4, 'QueryInfo', payload];
}

function framesWith(infoRows: unknown[][], completion: Record<string, unknown>): unknown[] {
  const f = frames(false);
  (f[2] as { Rows: unknown[][] }).Rows = infoRows;
  f[3] = { FrameType: 'DataSetCompletion', Cancelled: false, ...completion };
  return f;
}

describe('error frames that used to pass or read S_OK', () => {
  it('a DataSetCompletion with HasErrors but no OneApiErrors is a failure, not an empty success', () => {
    const raw = framesWith([infoRow(4, 'Info', 0, 'S_OK (0)', '{"Count":1,"Text":"Query completed successfully"}')], {
      HasErrors: true,
    });
    const e = errorOf(raw);
    expect(e.message).toMatch(/HasErrors but carries no OneApiErrors/);
    expect(e.name).toBe('KustoQueryError');
  });

  it('a Level-1 (Critical) row reports its real status code, not S_OK (0)', () => {
    // 0x80DA0001 as Kusto writes it: a signed 32-bit HRESULT.
    const runaway = 0x80da0001 | 0;
    const raw = framesWith(
      [infoRow(1, 'Critical', runaway, 'S_OK (0)', '{"Count":1,"Text":"Querycompletedsuccessfully"}')],
      { HasErrors: true },
    );
    const e = errorOf(raw);
    expect(e.message).toContain('E_RUNAWAY_QUERY (0x80DA0001)');
    expect(e.message).not.toContain('S_OK');
    // A runaway query is over Kusto's limits: narrowed by the extract, never retried as is.
    expect(e.name).toBe('KustoLimitsError');
  });

  it('a Level-1 row carrying a OneApiError payload reports its code and message', () => {
    const payload = JSON.stringify({
      error: { code: 'General_InternalServerError', '@message': 'Partition 7 failed: disk full', '@permanent': false },
    });
    const raw = framesWith([infoRow(1, 'Critical', 0, 'S_OK (0)', payload)], { HasErrors: true });
    const e = errorOf(raw);
    expect(e.message).toContain('General_InternalServerError: Partition 7 failed: disk full');
    expect(e.message).not.toContain('S_OK');
    expect(e.name).toBe('KustoQueryError');
  });

  it('a Level-1 row with nothing but S_OK still fails and says what is missing', () => {
    const raw = framesWith([infoRow(1, 'Critical', 0, 'S_OK (0)', '')], { HasErrors: false });
    const e = errorOf(raw);
    expect(e.message).toMatch(/marked the query Critical \(level 1\) without an error code or message/);
    expect(e.message).not.toContain('S_OK');
  });
});

describe('parseKustoJson keeps every long', () => {
  it('reads int64 values past 2^53 as their exact digits, and leaves everything else as JSON.parse would', () => {
    const text =
      '[{"Rows":[[9223372036854775807,-9223372036854775808,9007199254740993,42,1.5e300,' +
      '"id 12345678901234567890",NaN,-Infinity]]}]';
    const [frame] = parseKustoJson(text) as Array<{ Rows: unknown[][] }>;
    expect(frame!.Rows[0]).toEqual([
      '9223372036854775807',
      '-9223372036854775808',
      '9007199254740993',
      42,
      1.5e300,
      'id 12345678901234567890',
      'NaN',
      '-Infinity',
    ]);
    // Reals with 16+ digits in their fraction, mantissa or exponent are reals, not longs.
    expect(
      parseKustoJson('[0.12345678901234567,1.2345678901234567e5,12345678901234567.5,-1e-1234567890123456]'),
    ).toEqual([0.12345678901234567, 1.2345678901234567e5, 12345678901234567.5, -0]);
    // Safe integers (up to 2^53 - 1) stay numbers.
    expect(parseKustoJson('[9007199254740991,1234567890123456]')).toEqual([9007199254740991, 1234567890123456]);
  });
});
