#!/usr/bin/env bash
# Sets up pgBackRest for the local PostgreSQL 15 cluster that holds Tresor's
# database: installs the Debian package if missing, installs the config,
# turns on WAL archiving (restart needed once), creates the stanza and checks it.
#   sudo ops/pgbackrest/setup.sh            # as root, on the database host
# Then: sudo -u postgres pgbackrest --stanza=tresor --type=full backup
# (or TRESOR_PGBACKREST_STANZA=tresor tresor backup create --type full).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stanza=${STANZA:-tresor}
conf=${PGBACKREST_CONF:-/etc/pgbackrest/pgbackrest.conf}
pgdata=${PGDATA:-/var/lib/postgresql/15/main}

command -v pgbackrest >/dev/null || { apt-get update && apt-get install -y pgbackrest; }
if [[ ! -f $conf ]]; then
  install -d -o postgres -g postgres -m 0750 "$(dirname "$conf")" /var/lib/pgbackrest /var/spool/pgbackrest
  pass=$(openssl rand -base64 48 | tr -d '\n')
  sed -e "s|^repo1-cipher-pass=.*|repo1-cipher-pass=$pass|" -e "s|^pg1-path=.*|pg1-path=$pgdata|" "$here/pgbackrest.conf" > "$conf"
  chown postgres:postgres "$conf"; chmod 0640 "$conf"
  echo "wrote $conf with a new repository passphrase: copy it to your password manager now; backups cannot be restored without it"
fi
runuser -u postgres -- psql -qAtc "alter system set archive_mode = on" \
  -c "alter system set archive_command = 'pgbackrest --config=$conf --stanza=$stanza archive-push %p'" \
  -c "alter system set wal_level = replica"
echo "restart PostgreSQL once for archive_mode (e.g. systemctl restart postgresql@15-main), then press enter"; read -r _
runuser -u postgres -- pgbackrest --config="$conf" --stanza="$stanza" stanza-create
runuser -u postgres -- pgbackrest --config="$conf" --stanza="$stanza" check
echo "pgBackRest ready: schedule 'pgbackrest --stanza=$stanza --type=full backup' weekly and '--type=diff' daily (see pgbackrest.timer.example)"
