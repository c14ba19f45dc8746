//! Database sources: a table or query of a department's PostgreSQL or MySQL / MariaDB server,
//! read live as a [`Source`] (cargo feature `database`).
//!
//! - **Credentials** come only from the environment variables the connector names
//!   (`user_env`, `password_env`); no message or manifest ever holds the password.
//! - **One consistent read**: the survey opens a read-only repeatable-read transaction, and the
//!   rows are read inside it, so the watermark the survey finds is exactly what the read lands.
//! - **Streamed**: rows arrive as text (PostgreSQL's simple-query protocol, MySQL's text
//!   protocol) and are cut into [`TextBatch`]es of `batch_rows` rows (and at most
//!   [`super::source::batch_text_limit`] of text), handed on through a bounded channel: memory
//!   holds a few batches, whatever the table.
//! - **Incremental** with `watermark`: after the first load, only rows with
//!   `watermark > the value reached before` and `≤ the largest value now` are read.

// without the `database` feature only the declaration's checks and the error remain
#![cfg_attr(not(feature = "database"), allow(dead_code, unused_imports))]

use super::source::{Header, QuerySplit, Rows, Source, Split, Survey, TextBatch, TypeFamily, Watch, wall_clock};
use super::spec::{DatabaseKind, DatabaseSpec, TlsMode};
use super::{Connector, Error, Result};

/// Rows per batch unless the connector says otherwise.
pub const DEFAULT_BATCH_ROWS: usize = 50_000;

/// The source of a `[database]` connector. Fails, naming the connector, when this build has no
/// database support or a credential variable is unset.
pub fn open(conn: &Connector, db: &DatabaseSpec) -> Result<Box<dyn Source>> {
    imp::open(Target::of(&conn.path, db)?)
}

/// The column names and first `rows` rows of a table or query (for `connector new`). `path` is
/// the connector the draft will be, for messages and to resolve `ca_file`.
pub async fn sample(path: &std::path::Path, db: &DatabaseSpec, rows: usize) -> Result<(Header, Vec<Vec<String>>)> {
    let mut limited = db.clone();
    let target = Target::of(path, db)?;
    limited.table = None;
    limited.watermark = None;
    limited.query = Some(format!("{} LIMIT {rows}", target.select(None, None)));
    limited.batch_rows = Some(rows.max(1));
    let source = imp::open(Target { spec: limited, ..target })?;
    let survey = source.survey(None, &super::source::Unwatched).await?;
    let header = survey.header.unwrap_or_default();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let split = survey.splits[0].clone();
    let reading = async move { source.read(&split, tx).await };
    let width = header.names.len();
    let taking = async move {
        let mut out = Vec::new();
        while let Some(rows) = rx.recv().await {
            let Rows::Text(b) = rows else { continue };
            for r in 0..b.len() {
                out.push((0..width).map(|c| b.get(r, c).unwrap_or("").to_string()).collect());
            }
        }
        out
    };
    let (read, out) = futures::join!(reading, taking);
    read?;
    Ok((header, out))
}

/// Everything needed to connect and read, credentials resolved.
struct Target {
    spec: DatabaseSpec,
    /// `connectors/x.toml (PostgreSQL 127.0.0.1:5432/db)`: where errors point.
    shown: String,
    user: String,
    password: Option<String>,
    base: std::path::PathBuf,
}

impl Target {
    /// What a survey found: one read of `sql`, whose result has these columns.
    fn survey(
        &self,
        header: Header,
        sql: String,
        rows: Option<u64>,
        watermark: Option<(String, Option<String>)>,
    ) -> Survey {
        Survey {
            header: Some(header),
            splits: vec![Split::Query(QuerySplit { label: self.shown.clone(), request: sql })],
            rows,
            watermark,
            ..Default::default()
        }
    }

    fn of(path: &std::path::Path, db: &DatabaseSpec) -> Result<Target> {
        let port = db.port.unwrap_or(db.kind.default_port());
        let shown = format!("{} ({} {}:{port}/{})", path.display(), db.kind.label(), db.host, db.database);
        let env = |key: &str, var: &str| {
            std::env::var(var).map_err(|_| Error::Source {
                file: shown.clone(),
                message: format!("environment variable {var} (`{key}` of [database]) is not set"),
            })
        };
        let user = match (&db.user, &db.user_env) {
            (Some(u), _) => u.clone(),
            (None, Some(var)) => env("user_env", var)?,
            (None, None) => unreachable!("checked when loaded"),
        };
        let password = db.password_env.as_deref().map(|var| env("password_env", var)).transpose()?;
        let base = path.parent().and_then(|p| p.parent()).map(|p| p.to_path_buf()).unwrap_or_default();
        Ok(Target { spec: db.clone(), shown, user, password, base })
    }

    fn err(&self, message: impl std::fmt::Display) -> Error {
        Error::Source { file: self.shown.clone(), message: message.to_string() }
    }

    fn batch_rows(&self) -> usize {
        self.spec.batch_rows.unwrap_or(DEFAULT_BATCH_ROWS).max(1)
    }

    fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.spec.connect_timeout.unwrap_or(30).max(1))
    }

    /// The CA file, relative to the project.
    fn ca_file(&self) -> Option<std::path::PathBuf> {
        self.spec.ca_file.as_ref().map(|f| self.base.join(f))
    }

    /// `SELECT *` of the table or the query, past `since` and up to `until` on the watermark.
    fn select(&self, since: Option<&str>, until: Option<&str>) -> String {
        let q = |s: &str| quote_ident(self.spec.kind, s);
        let from = match (&self.spec.table, &self.spec.query) {
            (Some(t), _) => t.split('.').map(|p| q(p.trim())).collect::<Vec<_>>().join("."),
            (None, Some(query)) => format!("({}) AS searchlight_src", query.trim().trim_end_matches(';')),
            (None, None) => unreachable!("checked when loaded"),
        };
        let mut sql = format!("SELECT * FROM {from}");
        if let Some(w) = &self.spec.watermark {
            let mut conds = Vec::new();
            if let Some(s) = since {
                conds.push(format!("{} > {}", q(w), quote_literal(self.spec.kind, s)));
            }
            if let Some(u) = until {
                conds.push(format!("{} <= {}", q(w), quote_literal(self.spec.kind, u)));
            }
            if !conds.is_empty() {
                // a query's own WHERE stays inside the subquery; a table is wrapped the same way
                sql = format!("SELECT * FROM ({sql}) AS searchlight_w WHERE {}", conds.join(" AND "));
            }
        }
        sql
    }

    fn survey_sql(&self, since: Option<&str>) -> Option<String> {
        let w = self.spec.watermark.as_ref()?;
        let cast = match self.spec.kind {
            DatabaseKind::Postgres => format!("max({})::text", quote_ident(self.spec.kind, w)),
            DatabaseKind::Mysql => format!("CAST(max({}) AS CHAR)", quote_ident(self.spec.kind, w)),
        };
        Some(format!("SELECT {cast}, count(*) FROM ({}) AS searchlight_s", self.select(since, None)))
    }
}

/// An identifier quoted for the server.
fn quote_ident(kind: DatabaseKind, s: &str) -> String {
    match kind {
        DatabaseKind::Postgres => format!("\"{}\"", s.replace('"', "\"\"")),
        DatabaseKind::Mysql => format!("`{}`", s.replace('`', "``")),
    }
}

/// A text literal quoted for the server (the watermark values the server itself returned).
fn quote_literal(kind: DatabaseKind, s: &str) -> String {
    match kind {
        DatabaseKind::Postgres => format!("'{}'", s.replace('\'', "''")),
        DatabaseKind::Mysql => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''")),
    }
}

/// A value's text as the converter reads it: booleans as `true` / `false` (PostgreSQL writes
/// `t` / `f`), date-times without fractional seconds or the zone suffix (the session's own
/// zone, set on connecting).
fn tidy(family: TypeFamily, v: &str) -> &str {
    match (family, v) {
        (TypeFamily::Bool, "t") => "true",
        (TypeFamily::Bool, "f") => "false",
        (TypeFamily::Temporal, v) => wall_clock(v),
        (_, v) => v,
    }
}

/// The family of a PostgreSQL type, by name.
fn postgres_family(name: &str) -> TypeFamily {
    match name {
        "bytea" => TypeFamily::Binary,
        "bool" => TypeFamily::Bool,
        "int2" | "int4" | "int8" | "numeric" | "float4" | "float8" | "oid" => TypeFamily::Number,
        "date" | "timestamp" | "timestamptz" => TypeFamily::Temporal,
        "time" | "timetz" => TypeFamily::TimeOfDay,
        "json" | "jsonb" | "xml" | "interval" | "point" | "line" | "lseg" | "box" | "path" | "polygon" | "circle"
        | "tsvector" | "tsquery" | "money" | "bit" | "varbit" => TypeFamily::Structured,
        n if n.starts_with('_') || n.ends_with("range") || n.ends_with("multirange") => TypeFamily::Structured,
        _ => TypeFamily::Text,
    }
}

/// The family of a MySQL type name as [`imp`] spells it.
fn mysql_family(name: &str) -> TypeFamily {
    match name {
        "BINARY" | "BLOB" | "GEOMETRY" | "BIT" => TypeFamily::Binary,
        "JSON" => TypeFamily::Structured,
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "DECIMAL" | "FLOAT" | "DOUBLE" | "YEAR" => {
            TypeFamily::Number
        }
        "DATE" | "DATETIME" | "TIMESTAMP" => TypeFamily::Temporal,
        "TIME" => TypeFamily::TimeOfDay,
        _ => TypeFamily::Text,
    }
}

#[cfg(not(feature = "database"))]
mod imp {
    use super::*;

    pub(super) fn open(target: Target) -> Result<Box<dyn Source>> {
        let _ = (tidy, postgres_family, mysql_family, DEFAULT_ZONE);
        Err(target.err(
            "this searchlight was built without database sources: build it with `cargo build --release --features database`",
        ))
    }
}

#[cfg(feature = "database")]
mod imp {
    use std::sync::Arc;

    use async_trait::async_trait;
    use tokio::sync::Mutex;

    use super::*;

    pub(super) fn open(target: Target) -> Result<Box<dyn Source>> {
        Ok(match target.spec.kind {
            DatabaseKind::Postgres => Box::new(Postgres { t: target, session: Mutex::new(None) }),
            DatabaseKind::Mysql => Box::new(Mysql { t: target, session: Mutex::new(None) }),
        })
    }

    /// rustls with the ring provider; `verify` checks the certificate against `ca` (or the
    /// public roots) and the host name, otherwise any certificate is taken (`tls = "require"`).
    fn rustls_config(t: &Target, verify: bool) -> Result<rustls::ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| t.err(format!("TLS: {e}")))?;
        if !verify {
            return Ok(builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth());
        }
        let mut roots = rustls::RootCertStore::empty();
        match t.ca_file() {
            Some(path) => {
                use rustls::pki_types::{CertificateDer, pem::PemObject};
                let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&path)
                    .and_then(|it| it.collect::<std::result::Result<_, _>>())
                    .map_err(|e| t.err(format!("ca_file {}: {e}", path.display())))?;
                if certs.is_empty() {
                    return Err(t.err(format!("ca_file {}: no certificate in it", path.display())));
                }
                for c in certs {
                    roots.add(c).map_err(|e| t.err(format!("ca_file {}: {e}", path.display())))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        Ok(builder.with_root_certificates(roots).with_no_client_auth())
    }

    /// `tls = "require"`: encrypted, any certificate (signatures still checked).
    #[derive(Debug)]
    struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

    impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
        fn verify_server_cert(
            &self,
            _end_entity: &rustls::pki_types::CertificateDer<'_>,
            _intermediates: &[rustls::pki_types::CertificateDer<'_>],
            _server_name: &rustls::pki_types::ServerName<'_>,
            _ocsp_response: &[u8],
            _now: rustls::pki_types::UnixTime,
        ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    // ---- PostgreSQL ----

    struct Postgres {
        t: Target,
        /// The connection of this load, inside its read-only transaction.
        session: Mutex<Option<(tokio_postgres::Client, Vec<TypeFamily>)>>,
    }

    impl Postgres {
        fn pg_err(&self, e: tokio_postgres::Error) -> Error {
            // the server's own message (`password authentication failed for user "x"`), which
            // never holds the password
            let message = match e.as_db_error() {
                Some(db) => format!("{}: {}", db.severity(), db.message()),
                None => {
                    let mut m = e.to_string();
                    let mut src = std::error::Error::source(&e);
                    while let Some(s) = src {
                        m = format!("{m}: {s}");
                        src = s.source();
                    }
                    m
                }
            };
            self.t.err(message)
        }

        async fn connect(&self) -> Result<tokio_postgres::Client> {
            use tokio_postgres::config::SslMode;
            let t = &self.t;
            let mut cfg = tokio_postgres::Config::new();
            cfg.host(&t.spec.host)
                .port(t.spec.port.unwrap_or(5432))
                .dbname(&t.spec.database)
                .user(&t.user)
                .application_name("searchlight")
                .connect_timeout(t.timeout());
            if let Some(p) = &t.password {
                cfg.password(p);
            }
            let connecting = async {
                let client = match t.spec.tls {
                    TlsMode::Disable => {
                        cfg.ssl_mode(SslMode::Disable);
                        let (client, connection) =
                            cfg.connect(tokio_postgres::NoTls).await.map_err(|e| self.pg_err(e))?;
                        tokio::spawn(connection);
                        client
                    }
                    mode => {
                        cfg.ssl_mode(SslMode::Require);
                        let config = rustls_config(t, mode == TlsMode::VerifyFull)?;
                        let tls = tokio_postgres_rustls::MakeRustlsConnect::new(config);
                        let (client, connection) = cfg.connect(tls).await.map_err(|e| self.pg_err(e))?;
                        tokio::spawn(connection);
                        client
                    }
                };
                Ok::<_, Error>(client)
            };
            let client = match tokio::time::timeout(t.timeout(), connecting).await {
                Err(_) => return Err(t.err(format!("no connection within {} s", t.timeout().as_secs()))),
                Ok(r) => r.map_err(|e| self.tls_hint(e))?,
            };
            let zone = t.spec.time_zone.as_deref().unwrap_or(DEFAULT_ZONE);
            client
                .batch_execute(&format!(
                    "SET TIME ZONE {}; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 1; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                    quote_literal(DatabaseKind::Postgres, zone)
                ))
                .await
                .map_err(|e| self.pg_err(e))?;
            Ok(client)
        }

        fn tls_hint(&self, e: Error) -> Error {
            match e {
                Error::Source { file, message } if message.contains("server does not support TLS") => Error::Source {
                    file,
                    message: format!(
                        "{message} — the connector requires an encrypted connection (`tls = \"{}\"`); on a network the data may cross in clear, set `tls = \"disable\"`",
                        if self.t.spec.tls == TlsMode::VerifyFull { "verify-full" } else { "require" }
                    ),
                },
                Error::Source { file, message } if message.contains("invalid peer certificate") => Error::Source {
                    file,
                    message: format!(
                        "{message} — `tls = \"verify-full\"` found no authority it trusts behind the server's certificate: give the certificate of the authority that signed it as `ca_file`"
                    ),
                },
                other => other,
            }
        }
    }

    #[async_trait]
    impl Source for Postgres {
        fn describe(&self) -> String {
            self.t.shown.clone()
        }

        async fn survey(&self, since: Option<&str>, _watch: &dyn Watch) -> Result<Survey> {
            let client = self.connect().await?;
            let (mut rows, mut watermark) = (None, None);
            if let (Some(sql), Some(w)) = (self.t.survey_sql(since), &self.t.spec.watermark) {
                let found = client.simple_query(&sql).await.map_err(|e| self.pg_err(e))?;
                for m in found {
                    if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
                        watermark = Some((w.clone(), r.get(0).map(str::to_string)));
                        rows = r.get(1).and_then(|n| n.parse().ok());
                    }
                }
            }
            let until = watermark.as_ref().and_then(|(_, u)| u.clone());
            let sql = self.t.select(since, until.as_deref());
            let statement = client.prepare(&sql).await.map_err(|e| self.pg_err(e))?;
            let header = Header {
                names: statement.columns().iter().map(|c| c.name().to_string()).collect(),
                types: statement.columns().iter().map(|c| c.type_().name().to_string()).collect(),
                families: statement.columns().iter().map(|c| postgres_family(c.type_().name())).collect(),
            };
            let families = header.families.clone();
            *self.session.lock().await = Some((client, families));
            Ok(self.t.survey(header, sql, rows, watermark))
        }

        async fn read(&self, split: &Split, out: tokio::sync::mpsc::Sender<Rows>) -> Result<u64> {
            let split = split.query(&self.t.shown)?;
            use futures::StreamExt;
            let guard = self.session.lock().await;
            let (client, families) = guard.as_ref().ok_or_else(|| self.t.err("read before survey"))?;
            let stream = client.simple_query_raw(&split.request).await.map_err(|e| self.pg_err(e))?;
            futures::pin_mut!(stream);
            let (mut batch, mut read) = (None::<TextBatch>, 0u64);
            let width = families.len();
            let limit = self.t.batch_rows();
            while let Some(m) = stream.next().await {
                if let tokio_postgres::SimpleQueryMessage::Row(r) = m.map_err(|e| self.pg_err(e))? {
                    let b = batch.get_or_insert_with(|| TextBatch::new(width, read + 1));
                    b.push_row((0..width).map(|i| r.get(i).map(|v| tidy(families[i], v))));
                    read += 1;
                    if b.full(limit) && out.send(batch.take().expect("just filled").into()).await.is_err() {
                        return Err(self.t.err("the lake stopped taking rows"));
                    }
                }
            }
            if let Some(b) = batch.take().filter(|b| !b.is_empty())
                && out.send(b.into()).await.is_err()
            {
                return Err(self.t.err("the lake stopped taking rows"));
            }
            let _ = client.batch_execute("COMMIT").await;
            Ok(read)
        }
    }

    // ---- MySQL / MariaDB ----

    struct Mysql {
        t: Target,
        session: Mutex<Option<(mysql_async::Conn, Vec<TypeFamily>)>>,
    }

    impl Mysql {
        fn my_err(&self, e: mysql_async::Error) -> Error {
            self.t.err(match e {
                mysql_async::Error::Server(s) => format!("server error {}: {}", s.code, s.message),
                other => other.to_string(),
            })
        }

        async fn connect(&self) -> Result<mysql_async::Conn> {
            let t = &self.t;
            let mut opts = mysql_async::OptsBuilder::default()
                .ip_or_hostname(t.spec.host.clone())
                .tcp_port(t.spec.port.unwrap_or(3306))
                .db_name(Some(t.spec.database.clone()))
                .user(Some(t.user.clone()))
                .pass(t.password.clone())
                .prefer_socket(false);
            match t.spec.tls {
                TlsMode::Disable => {}
                TlsMode::Require => {
                    opts = opts.ssl_opts(Some(
                        mysql_async::SslOpts::default()
                            .with_danger_accept_invalid_certs(true)
                            .with_danger_skip_domain_validation(true),
                    ));
                }
                TlsMode::VerifyFull => {
                    let mut ssl = mysql_async::SslOpts::default();
                    if let Some(ca) = t.ca_file() {
                        ssl = ssl.with_root_certs(vec![ca.into()]).with_disable_built_in_roots(true);
                    }
                    opts = opts.ssl_opts(Some(ssl));
                }
            }
            let mut conn = match tokio::time::timeout(t.timeout(), mysql_async::Conn::new(opts)).await {
                Err(_) => return Err(t.err(format!("no connection within {} s", t.timeout().as_secs()))),
                Ok(r) => r.map_err(|e| self.my_err(e))?,
            };
            let zone = t.spec.time_zone.as_deref().unwrap_or(DEFAULT_ZONE);
            let offset = zone_offset(zone).map_err(|m| t.err(m))?;
            use mysql_async::prelude::Queryable;
            conn.query_drop(format!(
                "SET time_zone = '{offset}'; START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"
            ))
            .await
            .map_err(|e| self.my_err(e))?;
            Ok(conn)
        }
    }

    fn type_name(c: &mysql_async::Column) -> String {
        use mysql_async::consts::ColumnType as C;
        let binary = c.character_set() == 63;
        match c.column_type() {
            C::MYSQL_TYPE_TINY => "TINYINT",
            C::MYSQL_TYPE_SHORT => "SMALLINT",
            C::MYSQL_TYPE_INT24 => "MEDIUMINT",
            C::MYSQL_TYPE_LONG => "INT",
            C::MYSQL_TYPE_LONGLONG => "BIGINT",
            C::MYSQL_TYPE_DECIMAL | C::MYSQL_TYPE_NEWDECIMAL => "DECIMAL",
            C::MYSQL_TYPE_FLOAT => "FLOAT",
            C::MYSQL_TYPE_DOUBLE => "DOUBLE",
            C::MYSQL_TYPE_YEAR => "YEAR",
            C::MYSQL_TYPE_DATE | C::MYSQL_TYPE_NEWDATE => "DATE",
            C::MYSQL_TYPE_DATETIME | C::MYSQL_TYPE_DATETIME2 => "DATETIME",
            C::MYSQL_TYPE_TIMESTAMP | C::MYSQL_TYPE_TIMESTAMP2 => "TIMESTAMP",
            C::MYSQL_TYPE_TIME | C::MYSQL_TYPE_TIME2 => "TIME",
            C::MYSQL_TYPE_JSON => "JSON",
            C::MYSQL_TYPE_GEOMETRY => "GEOMETRY",
            C::MYSQL_TYPE_BIT => "BIT",
            C::MYSQL_TYPE_TINY_BLOB
            | C::MYSQL_TYPE_MEDIUM_BLOB
            | C::MYSQL_TYPE_LONG_BLOB
            | C::MYSQL_TYPE_BLOB
            | C::MYSQL_TYPE_VAR_STRING
            | C::MYSQL_TYPE_VARCHAR
            | C::MYSQL_TYPE_STRING
                if binary =>
            {
                "BLOB"
            }
            C::MYSQL_TYPE_TINY_BLOB | C::MYSQL_TYPE_MEDIUM_BLOB | C::MYSQL_TYPE_LONG_BLOB | C::MYSQL_TYPE_BLOB => {
                "TEXT"
            }
            C::MYSQL_TYPE_ENUM => "ENUM",
            C::MYSQL_TYPE_SET => "SET",
            _ => "VARCHAR",
        }
        .to_string()
    }

    #[async_trait]
    impl Source for Mysql {
        fn describe(&self) -> String {
            self.t.shown.clone()
        }

        async fn survey(&self, since: Option<&str>, _watch: &dyn Watch) -> Result<Survey> {
            use mysql_async::prelude::Queryable;
            let mut conn = self.connect().await?;
            let (mut rows, mut watermark) = (None, None);
            if let (Some(sql), Some(w)) = (self.t.survey_sql(since), &self.t.spec.watermark) {
                let found: Option<(Option<String>, u64)> = conn.query_first(sql).await.map_err(|e| self.my_err(e))?;
                if let Some((max, n)) = found {
                    watermark = Some((w.clone(), max));
                    rows = Some(n);
                }
            }
            let until = watermark.as_ref().and_then(|(_, u)| u.clone());
            let sql = self.t.select(since, until.as_deref());
            let probe = format!("SELECT * FROM ({sql}) AS searchlight_h LIMIT 0");
            let result = conn.query_iter(probe).await.map_err(|e| self.my_err(e))?;
            let columns = result.columns().map(|c| c.to_vec()).unwrap_or_default();
            result.drop_result().await.map_err(|e| self.my_err(e))?;
            let header = Header {
                names: columns.iter().map(|c| c.name_str().into_owned()).collect(),
                types: columns.iter().map(type_name).collect(),
                families: columns.iter().map(|c| mysql_family(&type_name(c))).collect(),
            };
            let families = header.families.clone();
            *self.session.lock().await = Some((conn, families));
            Ok(self.t.survey(header, sql, rows, watermark))
        }

        async fn read(&self, split: &Split, out: tokio::sync::mpsc::Sender<Rows>) -> Result<u64> {
            let split = split.query(&self.t.shown)?;
            use mysql_async::prelude::Queryable;
            let mut guard = self.session.lock().await;
            let (conn, families) = guard.as_mut().ok_or_else(|| self.t.err("read before survey"))?;
            let families = families.clone();
            let mut result = conn.query_iter(split.request.clone()).await.map_err(|e| self.my_err(e))?;
            let width = result.columns().map(|c| c.len()).unwrap_or(0);
            let (mut batch, mut read) = (None::<TextBatch>, 0u64);
            let limit = self.t.batch_rows();
            let mut cells: Vec<Option<String>> = Vec::with_capacity(width);
            while let Some(row) = result.next().await.map_err(|e| self.my_err(e))? {
                cells.clear();
                for i in 0..width {
                    cells.push(match row.as_ref(i) {
                        None | Some(mysql_async::Value::NULL) => None,
                        Some(mysql_async::Value::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
                        Some(other) => Some(other.as_sql(true).trim_matches('\'').to_string()),
                    });
                }
                let b = batch.get_or_insert_with(|| TextBatch::new(width, read + 1));
                b.push_row(cells.iter().zip(&families).map(|(c, f)| c.as_deref().map(|v| tidy(*f, v))));
                read += 1;
                if b.full(limit) && out.send(batch.take().expect("just filled").into()).await.is_err() {
                    return Err(self.t.err("the lake stopped taking rows"));
                }
            }
            drop(result);
            if let Some(b) = batch.take().filter(|b| !b.is_empty())
                && out.send(b.into()).await.is_err()
            {
                return Err(self.t.err("the lake stopped taking rows"));
            }
            let _ = conn.query_drop("COMMIT").await;
            Ok(read)
        }
    }

    /// The UTC offset (`+08:00`) of a zone name, for servers without zone tables.
    fn zone_offset(zone: &str) -> std::result::Result<String, String> {
        use chrono::Offset as _;
        let tz: chrono_tz::Tz =
            zone.parse().map_err(|_| format!("time_zone `{zone}` is not a zone name (Asia/Shanghai)"))?;
        let secs = chrono::Utc::now().with_timezone(&tz).offset().fix().local_minus_utc();
        let (sign, secs) = if secs < 0 { ('-', -secs) } else { ('+', secs) };
        Ok(format!("{sign}{:02}:{:02}", secs / 3600, secs % 3600 / 60))
    }
}

/// The zone points in time are read in unless the connector says otherwise.
const DEFAULT_ZONE: &str = "Asia/Shanghai";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_literals_are_quoted_for_each_server() {
        assert_eq!(quote_ident(DatabaseKind::Postgres, "a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident(DatabaseKind::Mysql, "a`b"), "`a``b`");
        assert_eq!(quote_literal(DatabaseKind::Postgres, "o'k\\"), "'o''k\\'");
        assert_eq!(quote_literal(DatabaseKind::Mysql, "o'k\\"), "'o''k\\\\'");
    }

    #[test]
    fn date_times_lose_fractions_and_zones_only() {
        assert_eq!(wall_clock("2025-03-01 10:00:00+08"), "2025-03-01 10:00:00");
        assert_eq!(wall_clock("2025-03-01 10:00:00.123456"), "2025-03-01 10:00:00");
        assert_eq!(wall_clock("2025-03-01"), "2025-03-01");
        assert_eq!(wall_clock("2000-01-01T18:00:00Z"), "2000-01-01T18:00:00");
        assert_eq!(wall_clock("123456789012345678901-x"), "123456789012345678901-x");
        assert_eq!(postgres_family("_int4"), TypeFamily::Structured);
        assert_eq!(mysql_family("BLOB"), TypeFamily::Binary);
    }
}
