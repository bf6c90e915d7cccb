// Recorded workflow histories (issue 21): where they live, what the manifest says about each, and how
// a replay failure is reported. Shared by scripts/record-histories.ts (writes them) and
// test/workflows/replay.test.ts (replays every one against the current workflow code).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import proto from '@temporalio/proto';

export type History = proto.temporal.api.history.v1.IHistory;
const HistoryMessage = proto.temporal.api.history.v1.History;

/**
 * Fixture form: protobufjs's object form (enum names, 64-bit ids as strings, payloads base64).
 * Not the SDK's historyToJSON: in @temporalio/common 1.24 it fails ("type must be a Type") on a
 * history fetched by @temporalio/client, whose protobufjs is another copy.
 */
export function historyToFixture(history: History): string {
  const obj = HistoryMessage.toObject(HistoryMessage.fromObject(history), {
    longs: String,
    enums: String,
    bytes: String,
  });
  return JSON.stringify(obj, null, 1) + '\n';
}

export const historyFromFixture = (text: string): History => HistoryMessage.fromObject(JSON.parse(text));

export const HISTORIES_DIR = path.resolve(import.meta.dirname, '..', 'workflows', 'histories');
export const MANIFEST_PATH = path.join(HISTORIES_DIR, 'manifest.json');

export interface HistoryEntry {
  /** Relative to HISTORIES_DIR: `<release>/<name>.json`. */
  file: string;
  /** What in-flight shape this history stands for. */
  shape: string;
  workflowType: string;
  /** Replay needs the original id: child workflow ids are derived from it. */
  workflowId: string;
  /** The release (package.json version) whose workflow code recorded it. */
  release: string;
  events: number;
  /** Complete histories end with a close event; an open one was recorded while the run was in flight. */
  complete: boolean;
  sha256: string;
}

export interface HistoryManifest {
  histories: HistoryEntry[];
  /** Histories deleted on purpose (their patch was retired with deprecatePatch()), with why. */
  retired?: Array<{ file: string; reason: string }>;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function readManifest(): HistoryManifest {
  return JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as HistoryManifest;
}

export function loadHistory(entry: HistoryEntry): { text: string; history: History } {
  const text = readFileSync(path.join(HISTORIES_DIR, entry.file), 'utf8');
  return { text, history: historyFromFixture(text) };
}

/**
 * One line naming the history and the first event the new code disagrees with. Core's
 * non-determinism message says which event (by id, or by the activity/timer id it scheduled);
 * the event is looked up in the history so the line also says its type and what it scheduled.
 */
export function describeReplayFailure(file: string, history: History, error: Error): string {
  const events = history.events ?? [];
  // Core's words, without the SDK's wrapping: "[TMPRL1100] Nondeterminism error: Activity type of
  // scheduled event 'a' does not match activity type of activity command 'b'".
  const core = /\[TMPRL\d+\][^"\\]*/.exec(error.message)?.[0] ?? error.message.split('\n')[0]!;
  const byId = /HistoryEvent\(id: (\d+)|event id (\d+)/i.exec(core);
  const scheduled = /scheduled event '([^']+)'/i.exec(core)?.[1];
  const event = byId
    ? events.find((e) => Number(e.eventId) === Number(byId[1] ?? byId[2]))
    : scheduled !== undefined
      ? events.find((e) => schedulingKeys(e).includes(scheduled))
      : undefined;
  const where = event
    ? `first mismatching event #${String(event.eventId)} ${eventTypeName(event.eventType)}${detailOf(event)}`
    : 'first mismatching event not identified';
  return `replay of ${file} failed: ${where}: ${core.trim()}`;
}

type HistoryEvent = NonNullable<History['events']>[number];

/** The names core quotes for an event that scheduled something: activity type/id, child id/type, timer id. */
function schedulingKeys(e: HistoryEvent): string[] {
  const a = e.activityTaskScheduledEventAttributes;
  const c = e.startChildWorkflowExecutionInitiatedEventAttributes;
  const t = e.timerStartedEventAttributes;
  return [a?.activityType?.name, a?.activityId, c?.workflowId, c?.workflowType?.name, t?.timerId].filter(
    (k): k is string => typeof k === 'string',
  );
}

function detailOf(e: HistoryEvent): string {
  const a = e.activityTaskScheduledEventAttributes;
  if (a) return ` (activity ${a.activityType?.name}, node ${summaryOf(e)})`;
  const c = e.startChildWorkflowExecutionInitiatedEventAttributes;
  if (c) return ` (child ${c.workflowType?.name} ${c.workflowId})`;
  return '';
}

function eventTypeName(t: unknown): string {
  const name = typeof t === 'number' ? proto.temporal.api.enums.v1.EventType[t] : String(t);
  return String(name ?? t).replace(/^EVENT_TYPE_/, '');
}

/** The node id runPipeline puts in each activity's summary (a JSON payload). */
function summaryOf(event: HistoryEvent): string {
  const data = event.userMetadata?.summary?.data;
  if (!data) return '-';
  const text = Buffer.from(data).toString('utf8');
  try {
    return String(JSON.parse(text));
  } catch {
    return text;
  }
}

export interface FixtureChange {
  /** git's --name-status letter: A added, M modified, D deleted, R renamed. */
  status: string;
  /** Relative to HISTORIES_DIR. */
  file: string;
}

/**
 * Histories of released versions are frozen: they are what workflows running during the next
 * deploy look like. Only the current release's directory may be (re-)recorded; a past release's
 * history may go only when manifest.json lists it under `retired` (the patch it needed was removed
 * with deprecatePatch()). Returns one line per violation.
 */
export function frozenFixtureViolations(
  changes: FixtureChange[],
  currentRelease: string,
  retired: ReadonlyArray<{ file: string; reason: string }> = [],
): string[] {
  const out: string[] = [];
  for (const c of changes) {
    if (c.file === 'manifest.json' || c.file.startsWith(`${currentRelease}/`)) continue;
    if (c.status.startsWith('A')) continue;
    if (c.status.startsWith('D') && retired.some((r) => r.file === c.file)) continue;
    out.push(
      `${c.file} (${c.status}) belongs to a released version and is frozen: record new histories under ` +
        `${currentRelease}/ (npm run record:histories)` +
        (c.status.startsWith('D') ? ', or list it under "retired" in manifest.json with the reason' : ''),
    );
  }
  return out;
}
