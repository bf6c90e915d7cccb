// Links into the Temporal Web UI, used by the CLI (follower, feed, backfill) and the server (API
// runs and pipelines): below both, so the server does not import from the CLI.

/** The Web UI page of a workflow, or undefined when no UI URL is known. */
export function workflowUrl(uiUrl: string | undefined, namespace: string, workflowId: string): string | undefined {
  return uiUrl
    ? `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`
    : undefined;
}
