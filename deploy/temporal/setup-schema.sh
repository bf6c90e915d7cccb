#!/bin/sh
# Creates or upgrades Temporal's two databases (persistence and visibility) on postgres-temporal.
# Every step is idempotent, so it runs on every `docker compose up` and upgrades the schema
# when the admin-tools image is bumped.
set -eu
sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p 5432 -u "$POSTGRES_USER" "$@"; }
schema=/etc/temporal/schema/postgresql/v12
for db in temporal temporal_visibility; do
  dir=temporal
  [ "$db" = temporal_visibility ] && dir=visibility
  sql --db "$db" create
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema -d "$schema/$dir/versioned"
done
echo "temporal schema is up to date"
