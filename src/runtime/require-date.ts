import { isValidDate } from '../pipelines/dates.js';
import type { NodeInput } from '../pipelines/types.js';
import { ValidationError } from '../errors.js';

/** The target date of a dated job, checked: it is inlined into COPY statements, which take no parameters. */
export function requireDate(input: NodeInput): string {
  const d = input.targetDate;
  if (!d || !isValidDate(d)) throw new ValidationError(`${input.nodeId} needs a valid target date, got "${d ?? ''}"`);
  return d;
}
