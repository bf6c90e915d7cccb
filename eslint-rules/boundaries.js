// learnsync's architecture as lint rules: every import is checked against the zone of the file that
// imports and the zone of the file imported, so the layout cannot drift back.
//   cli/server → activities registry → families → runtime → connectors      (arrows point one way)
//   a family never imports another family; only the wiring (src/stack) imports sample code;
//   connectors know nothing of Temporal; workflow code reaches families through definition.ts only.
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The zone of a repo file: { zone, family? }. */
export function zoneOf(absFile) {
  const rel = path.relative(ROOT, absFile).split(path.sep).join('/');
  let m;
  if (!rel.startsWith('src/')) return { zone: 'outside' };
  if (rel.startsWith('src/workflows/')) return { zone: 'workflows' };
  if ((m = rel.match(/^src\/pipelines\/([^/]+)\/sample\//))) return { zone: 'sample', family: m[1] };
  if ((m = rel.match(/^src\/pipelines\/([^/]+)\/definition\.(ts|js)$/))) return { zone: 'definition', family: m[1] };
  if ((m = rel.match(/^src\/pipelines\/([^/]+)\//))) return { zone: 'family', family: m[1] };
  if (rel.startsWith('src/pipelines/')) return { zone: 'engine' };
  if (rel.startsWith('src/stack/sample-kit/') || rel === 'src/stack/sample-servers.ts')
    return { zone: 'sample', family: '*' };
  if (rel.startsWith('src/stack/')) return { zone: 'wiring' };
  if (rel === 'src/worker.ts') return { zone: 'wiring' };
  if (rel.startsWith('src/runtime/')) return { zone: 'runtime' };
  if (rel.startsWith('src/connectors/')) return { zone: 'connectors' };
  if (rel.startsWith('src/cli/') || rel === 'src/client.ts') return { zone: 'cli' };
  if (rel.startsWith('src/server/')) return { zone: 'server' };
  if (rel.startsWith('src/schedules/')) return { zone: 'control' };
  if (rel.startsWith('src/activities/')) return { zone: 'activities' };
  if (rel.startsWith('src/warehouse/')) return { zone: 'warehouse' };
  return { zone: 'base' }; // config.ts, errors.ts, logging.ts
}

const FAMILY_ZONES = new Set(['family', 'definition', 'sample']);
/** The edge: it wires everything together, so it may import every zone (cli and server: all but sample code). */
const EDGE_ZONES = new Set(['wiring', 'cli', 'server', 'sample']);
/** What each inner zone may import besides itself. */
const MAY_IMPORT = {
  // The registry binds families to their dependencies (e.g. CDC sources to their databases).
  activities: ['family', 'runtime', 'connectors', 'base'],
  // Starts and manages workflows and schedules for the CLI and the server.
  control: ['workflows', 'engine', 'definition', 'runtime', 'connectors', 'base'],
  family: ['definition', 'runtime', 'connectors', 'engine', 'warehouse', 'base'],
  runtime: ['connectors', 'engine', 'warehouse', 'base'],
  connectors: ['base'],
  warehouse: ['connectors', 'base'],
  // Workflow code is deterministic: it reaches a family through its definition.ts only.
  workflows: ['engine', 'definition', 'base'],
  engine: ['definition'],
  definition: ['engine'],
  base: [],
};
/** Type-only imports erase at build time: workflow code may name any type (but not sample code). */
const TYPES_FROM_ANYWHERE = new Set(['workflows', 'engine', 'definition']);

function check(context, node, source, typeOnly) {
  const spec = source.value;
  if (typeof spec !== 'string') return;
  const from = zoneOf(context.filename);
  if (from.zone === 'outside') return;
  if (!spec.startsWith('.')) {
    if (from.zone === 'connectors' && /^@temporalio\//.test(spec))
      context.report({ node, messageId: 'connectorTemporal', data: { spec } });
    return;
  }
  const to = zoneOf(path.resolve(path.dirname(context.filename), spec));
  if (to.zone === 'sample' && from.zone !== 'sample' && from.zone !== 'wiring') {
    return context.report({ node, messageId: 'sample', data: { spec } });
  }
  const fam = (z) => FAMILY_ZONES.has(z.zone) && z.family !== '*';
  if (fam(from) && fam(to) && from.family !== to.family) {
    return context.report({ node, messageId: 'family', data: { spec, from: from.family, to: to.family } });
  }
  if (from.zone === to.zone || EDGE_ZONES.has(from.zone)) return;
  if ((MAY_IMPORT[from.zone] ?? []).includes(to.zone)) return;
  if (typeOnly && TYPES_FROM_ANYWHERE.has(from.zone)) return;
  context.report({ node, messageId: 'direction', data: { spec, from: from.zone, to: to.zone } });
}

const boundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'learnsync layer boundaries (see the README architecture section)' },
    schema: [],
    messages: {
      family:
        "'{{spec}}': the {{from}} family imports the {{to}} family. Families never" +
        ' import each other: move what both need to src/runtime or src/connectors.',
      sample:
        "'{{spec}}' is sample code: only the wiring (src/stack) chooses sample mode." +
        ' Take the client from ActivityDeps.sources (or CliContext.sources) instead.',
      direction:
        "'{{spec}}': {{from}} code must not import {{to}} code (arrows: cli/server → families" +
        ' → runtime → connectors; workflows see families through definition.ts only).',
      connectorTemporal:
        "'{{spec}}': connectors are protocol clients and know nothing" +
        ' of Temporal; heartbeats and retries belong to src/runtime.',
    },
  },
  create(context) {
    const typeOnlyDecl = (n) =>
      n.importKind === 'type' ||
      n.exportKind === 'type' ||
      (n.specifiers?.length > 0 && n.specifiers.every((s) => s.importKind === 'type'));
    return {
      ImportDeclaration: (n) => check(context, n, n.source, typeOnlyDecl(n)),
      ExportNamedDeclaration: (n) => n.source && check(context, n, n.source, typeOnlyDecl(n)),
      ExportAllDeclaration: (n) => check(context, n, n.source, n.exportKind === 'type'),
      ImportExpression: (n) => n.source.type === 'Literal' && check(context, n, n.source, false),
    };
  },
};

export default { rules: { boundaries } };
