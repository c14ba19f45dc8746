# Sourced by .ci/run: real PostgreSQL 15 and MariaDB servers on 127.0.0.1 for the database
# connector tests (cargo feature `database`), both with TLS from a throwaway certificate
# authority and a password-authenticated user. Exports SEARCHLIGHT_TEST_POSTGRES,
# SEARCHLIGHT_TEST_MYSQL (host:port), SEARCHLIGHT_TEST_DB_USER, SEARCHLIGHT_TEST_DB_PASSWORD and
# SEARCHLIGHT_TEST_DB_CA (the authority's PEM). Stops both on exit.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

DB_DIR=$(mktemp -d /tmp/searchlight-db.XXXXXX)
chmod 755 "$DB_DIR"
DB_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(12))')

# A certificate authority and a server certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=searchlight test CA" \
  -keyout "$DB_DIR/ca.key" -out "$DB_DIR/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$DB_DIR/server.key" -out "$DB_DIR/server.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$DB_DIR/ext.cnf"
openssl x509 -req -in "$DB_DIR/server.csr" -CA "$DB_DIR/ca.pem" -CAkey "$DB_DIR/ca.key" -CAcreateserial \
  -days 2 -extfile "$DB_DIR/ext.cnf" -out "$DB_DIR/server.pem" >/dev/null 2>&1

# PostgreSQL: trust on the socket (setup), SCRAM passwords over TCP (what the tests use).
PG_BIN=/usr/lib/postgresql/15/bin
PG_PORT=$(free_port)
mkdir -p "$DB_DIR/pg"
cp "$DB_DIR/server.pem" "$DB_DIR/pg/server.pem"
cp "$DB_DIR/server.key" "$DB_DIR/pg/server.key"
chown -R postgres "$DB_DIR/pg" 2>/dev/null || true
chmod 600 "$DB_DIR/pg/server.key"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_postgres "$PG_BIN/initdb" -D "$DB_DIR/pg/data" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
cat >"$DB_DIR/pg/data/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 scram-sha-256
EOF
as_postgres "$PG_BIN/pg_ctl" -D "$DB_DIR/pg/data" -l "$DB_DIR/pg/pg.log" -w -o \
  "-p $PG_PORT -k $DB_DIR/pg -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=$DB_DIR/pg/server.pem -c ssl_key_file=$DB_DIR/pg/server.key" \
  start >/dev/null
as_postgres psql -h "$DB_DIR/pg" -p "$PG_PORT" -d postgres -q -c \
  "CREATE ROLE searchlight LOGIN SUPERUSER PASSWORD '$DB_PASSWORD'" >/dev/null

# MariaDB (Debian's package, installed if missing).
if ! command -v mariadbd >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq mariadb-server >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq mariadb-server; }
fi
MY_PORT=$(free_port)
mkdir -p "$DB_DIR/my"
mariadb-install-db --no-defaults --datadir="$DB_DIR/my/data" --user=root \
  --auth-root-authentication-method=normal >/dev/null 2>&1
mariadbd --no-defaults --datadir="$DB_DIR/my/data" --socket="$DB_DIR/my/sock" --port="$MY_PORT" \
  --bind-address=127.0.0.1 --user=root --character-set-server=utf8mb4 --ssl-ca="$DB_DIR/ca.pem" --ssl-cert="$DB_DIR/server.pem" \
  --ssl-key="$DB_DIR/server.key" >"$DB_DIR/my/log" 2>&1 &
MY_PID=$!
for _ in $(seq 1 100); do
  mariadb --no-defaults -h 127.0.0.1 -P "$MY_PORT" -u root -e 'SELECT 1' >/dev/null 2>&1 && break
  sleep 0.2
done
mariadb --no-defaults -h 127.0.0.1 -P "$MY_PORT" -u root -e \
  "CREATE USER 'searchlight'@'%' IDENTIFIED BY '$DB_PASSWORD'; GRANT ALL ON *.* TO 'searchlight'@'%'; CREATE USER 'searchlight'@'localhost' IDENTIFIED BY '$DB_PASSWORD'; GRANT ALL ON *.* TO 'searchlight'@'localhost';"

stop_databases() {
  as_postgres "$PG_BIN/pg_ctl" -D "$DB_DIR/pg/data" -m immediate stop >/dev/null 2>&1 || true
  kill "$MY_PID" 2>/dev/null || true
}

export SEARCHLIGHT_TEST_POSTGRES="127.0.0.1:$PG_PORT"
export SEARCHLIGHT_TEST_MYSQL="127.0.0.1:$MY_PORT"
export SEARCHLIGHT_TEST_DB_USER=searchlight
export SEARCHLIGHT_TEST_DB_PASSWORD="$DB_PASSWORD"
export SEARCHLIGHT_TEST_DB_CA="$DB_DIR/ca.pem"
