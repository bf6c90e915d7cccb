#!/bin/sh
# Creates the namespace and registers learnsync's custom search attributes (Keyword), as
# src/workflows/search-attributes.ts declares them. Idempotent; retries while the new namespace
# reaches the server's cache.
set -eu
NS="${TEMPORAL_NAMESPACE:-default}"
retry() { n=0; until "$@"; do n=$((n + 1)); [ "$n" -ge 30 ] && return 1; sleep 2; done; }
retry temporal operator cluster health
temporal operator namespace describe -n "$NS" >/dev/null 2>&1 \
  || temporal operator namespace create -n "$NS" --retention 30d
ensure_attribute() {
  temporal operator search-attribute list -n "$NS" | grep -qw "$1" \
    || temporal operator search-attribute create -n "$NS" --name "$1" --type Keyword
}
for attribute in LearnsyncPipeline LearnsyncTargetDate LearnsyncStatus; do
  retry ensure_attribute "$attribute"
done
echo "namespace $NS and learnsync search attributes are ready"
