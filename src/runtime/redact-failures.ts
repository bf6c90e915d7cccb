// Every activity's failure passes the one masking function (src/secrets.ts) before Temporal
// records it in workflow history: a secret inside an upstream error message never reaches the
// server, the Web UI or `temporal workflow show`.
import { redactError } from '../secrets.js';

type AnyFn = (...args: never[]) => unknown;

export function withRedactedFailures<T extends Record<string, AnyFn>>(activities: T): T {
  const out: Record<string, AnyFn> = {};
  for (const [name, fn] of Object.entries(activities)) {
    out[name] = async function (this: unknown, ...args: never[]) {
      try {
        return await fn.apply(this, args);
      } catch (err) {
        throw redactError(err);
      }
    };
  }
  return out as T;
}
