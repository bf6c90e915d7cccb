// The shared CSV encoder and writer: RFC 4180 quoting, formula cells neutralised (OWASP), typed
// values left alone, files created 0640 and replaced atomically.
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { csvCell, csvRow, writeCsvAtomic } from '../../src/connectors/csv.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function* rowsOf(rows: unknown[][]) {
  for (const r of rows) yield r;
}

describe('csvCell', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+31 6 1234', "'+31 6 1234"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1:A2)', "'@SUM(A1:A2)"],
    ['\tcmd', "'\tcmd"],
    ['\rcmd', `"'\rcmd"`],
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ['=1+1@x.com', "'=1+1@x.com"],
  ])('neutralises the formula cell %j', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });

  it('leaves ordinary text, numbers, booleans, dates and nulls alone; quotes what RFC 4180 needs', () => {
    expect(csvCell('python')).toBe('python');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(0.25)).toBe('0.25');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(null)).toBe('');
    expect(csvCell(new Date('2026-01-02T03:04:05Z'))).toBe('2026-01-02T03:04:05.000Z');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvRow(['a', 1, null])).toBe('a,1,\r\n');
  });

  it('can be switched off for machine consumers', () => {
    expect(csvCell('=1+1', { neutralise: false })).toBe('=1+1');
  });
});

describe('writeCsvAtomic', () => {
  it('writes header and rows, mode 0640, and leaves no temporary file', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'csv-'));
    const file = path.join(dir, 'out.csv');
    const n = await writeCsvAtomic(
      file,
      ['a', 'b'],
      rowsOf([
        ['=x', 1],
        ['y', null],
      ]),
    );
    expect(n).toBe(2);
    expect(await readFile(file, 'utf8')).toBe("a,b\r\n'=x,1\r\ny,\r\n");
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['out.csv']);
  });

  it('a failure mid-stream keeps the previous file whole and removes the temporary one', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'csv-'));
    const file = path.join(dir, 'out.csv');
    await writeCsvAtomic(file, ['a'], rowsOf([['old']]));
    async function* broken() {
      yield ['new'];
      throw new Error('source lost');
    }
    await expect(writeCsvAtomic(file, ['a'], broken())).rejects.toThrow('source lost');
    expect(await readFile(file, 'utf8')).toBe('a\r\nold\r\n');
    expect(await readdir(dir)).toEqual(['out.csv']);
  });
});
