// A failed query's v2 frames as Kusto writes them: the QueryCompletionInformation row of level
// Error carries the boilerplate Payload {"Count":1,"Text":"Querycompletedsuccessfully"}; the
// service's own words are in DataSetCompletion's OneApiErrors or, failing those, in the row's
// StatusCodeName. The error reported must be those words.
import { describe, expect, it } from 'vitest';
import { readPrimaryResult } from '../../src/connectors/kusto/frames.js';

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
