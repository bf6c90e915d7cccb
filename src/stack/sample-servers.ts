// Sample mode: without credentials, the API activities read these local servers. Each worker
// process starts them once, the first time an activity needs them, on the configured loopback
// ports (SAMPLE_SCHOOL_API_PORT, SAMPLE_GITHUB_PORT) or on free ones when those are unset.
import type { Config } from '../config.js';
import { portOpen } from './ports.js';
import { startGithubServer, type GithubServer } from '../pipelines/github/sample/server.js';
import { startSchoolApiServer, type SchoolApiServer } from '../pipelines/school-api/sample/server.js';

/** The configured port, or undefined (a free one) when something already listens there — e.g. the
 * sample servers of a running `dev`, while `plan` or a second worker starts its own (same seed, same data). */
export async function samplePort(port: number | undefined): Promise<number | undefined> {
  return port !== undefined && (await portOpen('127.0.0.1', port)) ? undefined : port;
}

let school: Promise<SchoolApiServer> | undefined;
let github: Promise<GithubServer> | undefined;

// The demo's weather: now and then a 429 or a 502, which the clients must ride out.
const DEMO_CHAOS = { every429: 53, every5xx: 71 };

export function sampleSchoolApi(config: Config): Promise<SchoolApiServer> {
  school ??= samplePort(config.sampleApi.schoolApiPort)
    .then((port) =>
      startSchoolApiServer({ changesPerMinute: config.sampleApi.changesPerMinute, chaos: DEMO_CHAOS, port }),
    )
    .catch((err: unknown) => {
      school = undefined;
      throw err;
    });
  return school;
}

export function sampleGithub(config: Config): Promise<GithubServer> {
  github ??= samplePort(config.sampleApi.githubPort)
    .then((port) => startGithubServer({ changesPerMinute: config.sampleApi.changesPerMinute, chaos: DEMO_CHAOS, port }))
    .catch((err: unknown) => {
      github = undefined;
      throw err;
    });
  return github;
}
