// The probe's workflow: a chain of `n` steps of `width` parallel activities of `ms` each.
import { proxyActivities } from '@temporalio/workflow';
const a = proxyActivities<{ work(ms: number): Promise<number> }>({ startToCloseTimeout: '1 minute' });
export async function chain(ms: number, n: number, width: number): Promise<number> {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const r = await Promise.all(Array.from({ length: width }, () => a.work(ms)));
    s += r.length;
  }
  return s;
}
