// Sample mode: without credentials, the API activities read these local servers. Each worker
// process starts them once, on free loopback ports, the first time an activity needs them.
import type { Config } from '../config.js';
import { startGithubServer, type GithubServer } from '../pipelines/github/sample/server.js';
import { startSchoolApiServer, type SchoolApiServer } from '../pipelines/school-api/sample/server.js';

let school: Promise<SchoolApiServer> | undefined;
let github: Promise<GithubServer> | undefined;

// The demo's weather: now and then a 429 or a 502, which the clients must ride out.
const DEMO_CHAOS = { every429: 53, every5xx: 71 };

export function sampleSchoolApi(config: Config): Promise<SchoolApiServer> {
  school ??= startSchoolApiServer({ changesPerMinute: config.sampleApi.changesPerMinute, chaos: DEMO_CHAOS }).catch(
    (err: unknown) => {
      school = undefined;
      throw err;
    },
  );
  return school;
}

export function sampleGithub(config: Config): Promise<GithubServer> {
  github ??= startGithubServer({ changesPerMinute: config.sampleApi.changesPerMinute, chaos: DEMO_CHAOS }).catch(
    (err: unknown) => {
      github = undefined;
      throw err;
    },
  );
  return github;
}
