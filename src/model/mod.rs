//! STAGE 3a · supervision models (监督模型): `models/<domain>/<name>.sql`, one model per file.
//!
//! A model file is one SQL query whose leading block comment is a TOML header (see
//! `docs/models.md`). The whole file stays valid SQL, so positions DataFusion reports point at
//! lines of the file itself. Tests live beside the model in `<name>.test.toml` ([`testcase`]).
//!
//! This stage parses and validates; it never executes. The runner binds parameters and plans.

pub mod labels;
pub mod params;
pub mod spec;
pub mod testcase;

use crate::position::line_col;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use params::{ParamSpec, ParamType, ParamValue};
pub use spec::{ModelSpec, Severity};

/// An error in a model file, with its position.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", file.display())]
pub struct Error {
    /// The model file.
    pub file: PathBuf,
    /// 1-based line (0 when the whole file is meant).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Where a model file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Compiled into searchlight (the bundled library).
    Bundled,
    /// A file of the project's own `models/`.
    Project,
}

/// A loaded model.
#[derive(Debug, Clone)]
pub struct Model {
    /// The header.
    pub spec: ModelSpec,
    /// The file (for bundled models `searchlight:models/<domain>/<name>.sql`).
    pub path: PathBuf,
    /// Bundled or the project's own.
    pub origin: Origin,
    /// The whole file: header comment and SQL (planned as one statement).
    pub text: String,
    /// Version: BLAKE3 of the file's bytes (16 hex digits).
    pub version: String,
    /// Default parameter values (checked against their ranges).
    pub defaults: Vec<(String, ParamValue)>,
}

/// Ids are file-name-like: letters, digits, `.`, `_`, `-`.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The byte range of the TOML header inside the file: between a leading `/*` and the first `*/`.
fn header_range(text: &str) -> Option<std::ops::Range<usize>> {
    let start = text.len() - text.trim_start().len();
    if !text[start..].starts_with("/*") {
        return None;
    }
    let body = start + 2;
    let end = text[body..].find("*/")? + body;
    // an optional marker word right after `/*` (`/* searchlight`)
    let first_line_end = text[body..end].find('\n').map(|i| body + i).unwrap_or(end);
    let marker = text[body..first_line_end].trim();
    let from = if marker.is_empty() || marker == "searchlight" { first_line_end } else { body };
    Some(from..end)
}

/// Loads and validates one model file.
pub fn load(path: &Path) -> Result<Model, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read: {e}"),
    })?;
    parse(path, Origin::Project, bytes)
}

/// Validates one model file's bytes; `path` names it in errors.
pub fn parse(path: &Path, origin: Origin, bytes: Vec<u8>) -> Result<Model, Error> {
    let err = |line: usize, column: usize, message: String| Error { file: path.to_path_buf(), line, column, message };
    let version = blake3::hash(&bytes).to_hex()[..16].to_string();
    let text = String::from_utf8(bytes).map_err(|_| err(0, 0, "not UTF-8".into()))?;
    let range = header_range(&text).ok_or_else(|| {
        err(1, 1, "a model starts with its header: a `/* … */` comment holding TOML (see docs/models.md)".into())
    })?;
    let header = &text[range.clone()];
    let spec: ModelSpec = toml::from_str(header).map_err(|e| {
        let (line, column) = line_col(&text, range.start + e.span().map(|s| s.start).unwrap_or(0));
        err(line, column, format!("header: {}", e.message()))
    })?;
    // positions of header keys, for errors about their values
    let key_at = |key: &str| -> (usize, usize) {
        let found = header.lines().scan(0usize, |off, l| {
            let here = *off;
            *off += l.len() + 1;
            Some((here, l))
        });
        for (off, l) in found {
            let t = l.trim_start();
            if t.starts_with(key) && t[key.len()..].trim_start().starts_with(['=', '.', ']']) {
                return line_col(&text, range.start + off + (l.len() - t.len()));
            }
            if t.starts_with('[') && t.contains(key) {
                return line_col(&text, range.start + off);
            }
        }
        line_col(&text, range.start)
    };
    if !valid_id(&spec.id) {
        let (l, c) = key_at("id");
        return Err(err(l, c, format!("id `{}` may hold only letters, digits, `.`, `_` and `-`", spec.id)));
    }
    for (key, empty) in [
        ("entity", spec.entity.is_empty()),
        ("basis", spec.basis.is_empty()),
        ("unit", spec.unit.trim().is_empty()),
        ("title", spec.title.trim().is_empty()),
    ] {
        if empty {
            let (l, c) = key_at(key);
            return Err(err(l, c, format!("`{key}` must not be empty")));
        }
    }
    if let Some(cron) = &spec.schedule {
        if let Err(e) = cron.parse::<cron::Schedule>() {
            let (l, c) = key_at("schedule");
            return Err(err(
                l,
                c,
                format!("schedule `{cron}` is not a cron expression (sec min hour day month weekday): {e}"),
            ));
        }
    }
    let mut defaults = Vec::new();
    for (name, p) in &spec.params {
        let (l, c) = key_at(name);
        if name == params::AS_OF {
            return Err(err(l, c, "`as_of` is bound by every run; it cannot be declared".into()));
        }
        let v = p.default_value().map_err(|e| err(l, c, format!("parameter `{name}`: {e}")))?;
        defaults.push((name.clone(), v));
    }
    // the SQL must use what it declares and declare what it uses
    let sql = &text[range.end + 2..];
    let sql_at = range.end + 2;
    let used = placeholders(sql);
    for (name, offset) in &used {
        if name != params::AS_OF && !spec.params.contains_key(name) {
            let (l, c) = line_col(&text, sql_at + offset);
            return Err(err(l, c, format!("`${name}` is not a declared parameter (declare it under [params])")));
        }
    }
    for name in spec.params.keys() {
        if !used.iter().any(|(n, _)| n == name) {
            let (l, c) = key_at(name);
            return Err(err(l, c, format!("parameter `{name}` is declared but the SQL never uses `${name}`")));
        }
    }
    for (i, group) in spec.one_of.iter().enumerate() {
        if group.len() < 2 {
            let (l, c) = key_at("one_of");
            return Err(err(l, c, format!("one_of group {} needs two or more inputs", i + 1)));
        }
    }
    for item in spec.optional.iter().chain(spec.one_of.iter().flatten()) {
        let ok = !item.is_empty()
            && item.split('.').count() <= 2
            && item.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        if !ok {
            let (l, c) = key_at(if spec.optional.contains(item) { "optional" } else { "one_of" });
            return Err(err(l, c, format!("`{item}` is not `dataset` or `dataset.column`")));
        }
    }
    if let Some(inc) = &spec.incremental {
        let (l, c) = key_at("incremental");
        if !spec.entity.contains(&inc.output) {
            return Err(err(
                l,
                c,
                format!(
                    "[incremental] output `{}` must be one of the entity columns ({}): a clue's rows are then all recomputed or all carried",
                    inc.output,
                    spec.entity.join(", ")
                ),
            ));
        }
        let simple = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        for (what, name) in
            [("table", &inc.table), ("key", &inc.key)].into_iter().chain(inc.as_of.iter().map(|a| ("as_of", a)))
        {
            if !simple(name) {
                return Err(err(l, c, format!("[incremental] {what} `{name}` is not a plain name")));
            }
        }
    }
    Ok(Model { version, spec, path: path.to_path_buf(), origin, text, defaults })
}

/// `$name` placeholders in SQL text (outside strings and comments), with byte offsets.
fn placeholders(sql: &str) -> Vec<(String, usize)> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                let q = b[i];
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..].find("*/").map(|e| i + 2 + e + 2).unwrap_or(b.len());
            }
            b'$' => {
                let start = i;
                i += 1;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                if i > start + 1 {
                    out.push((sql[start + 1..i].to_string(), start));
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// Loads every `*.sql` under `dir` (recursively, sorted). Each model loads or fails on its own;
/// a second model with an id already taken is an error naming both files.
pub fn load_dir(dir: &Path) -> std::io::Result<Vec<Result<Model, Error>>> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    files.sort();
    Ok(unique(files.iter().map(|f| load(f)).collect()))
}

/// The bundled library, every model checked on its own.
pub fn bundled() -> Vec<Result<Model, Error>> {
    let out = crate::library::model_files()
        .map(|(path, text)| {
            let shown = PathBuf::from(format!("{}{path}", crate::library::BUNDLED_PREFIX));
            parse(&shown, Origin::Bundled, text.as_bytes().to_vec())
        })
        .collect();
    unique(out)
}

/// The models a project runs: the bundled library, then the project's `models/` (when it
/// exists), whose models add to the library or replace a bundled model of the same id.
pub fn load_library(project_models: &Path) -> std::io::Result<Vec<Result<Model, Error>>> {
    let mut out = bundled();
    for own in load_dir(project_models)? {
        let replaced = match &own {
            Ok(m) => {
                out.iter().position(|b| matches!(b, Ok(b) if b.origin == Origin::Bundled && b.spec.id == m.spec.id))
            }
            Err(_) => None,
        };
        match replaced {
            Some(i) => out[i] = own,
            None => out.push(own),
        }
    }
    Ok(out)
}

/// Turns the second model of an id already taken into an error naming both files.
fn unique(mut out: Vec<Result<Model, Error>>) -> Vec<Result<Model, Error>> {
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for r in out.iter_mut() {
        let Ok(m) = r else { continue };
        if let Some(first) = seen.get(&m.spec.id) {
            *r = Err(Error {
                file: m.path.clone(),
                line: 0,
                column: 0,
                message: format!("id `{}` is already the id of {}", m.spec.id, first.display()),
            });
        } else {
            seen.insert(m.spec.id.clone(), m.path.clone());
        }
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "sql") {
            out.push(p);
        }
    }
    Ok(())
}

impl Model {
    /// The model's id.
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    /// Parameter values for a run: defaults, then overrides (`name` → text), each checked.
    pub fn bind(&self, overrides: &[(String, String)]) -> Result<Vec<(String, ParamValue)>, String> {
        let mut values = self.defaults.clone();
        for (name, text) in overrides {
            let spec = self.spec.params.get(name).ok_or_else(|| {
                let known: Vec<&str> = self.spec.params.keys().map(String::as_str).collect();
                format!("model {} has no parameter `{name}` (it has: {})", self.spec.id, known.join(", "))
            })?;
            let v = params::parse(spec.kind, text).map_err(|e| format!("{}.{name}: {e}", self.spec.id))?;
            spec.check(&v).map_err(|e| format!("{}.{name}: {e}", self.spec.id))?;
            values.iter_mut().find(|(n, _)| n == name).expect("declared").1 = v;
        }
        Ok(values)
    }

    /// The test file beside the model (`<name>.test.toml`).
    pub fn test_path(&self) -> PathBuf {
        self.path.with_extension("test.toml")
    }

    /// The model's tests, read from beside the project file or from the bundled library.
    pub fn tests(&self) -> Result<testcase::TestFile, Error> {
        let path = self.test_path();
        let text = match self.origin {
            Origin::Project => std::fs::read_to_string(&path).map_err(|e| e.to_string()),
            Origin::Bundled => {
                let rel = path.to_string_lossy();
                let rel = rel.strip_prefix(crate::library::BUNDLED_PREFIX).unwrap_or(&rel).to_string();
                crate::library::file(&rel).map(str::to_string).ok_or_else(|| "no such bundled file".to_string())
            }
        }
        .map_err(|e| Error { file: path.clone(), line: 0, column: 0, message: format!("cannot read: {e}") })?;
        testcase::parse(&path, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.sql");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    const HEADER: &str = "/* searchlight\nid = \"t.one\"\ntitle = \"测试\"\ntitle_en = \"Test\"\ndomain = \"relief\"\narea = \"低保\"\nseverity = \"high\"\nowner = \"x\"\ndescription = \"d\"\nbasis = [\"《社会救助暂行办法》第十条\"]\nentity = [\"id_no\"]\nunit = \"unit_name\"\n";

    #[test]
    fn header_and_params_load() {
        let (_d, p) = write(&format!(
            "{HEADER}[params]\ndays = {{ type = \"int\", default = 31, min = 0, max = 92 }}\n*/\nSELECT id_no, unit_name FROM t WHERE d > $days AND e <= $as_of -- $ignored\n"
        ));
        let m = load(&p).unwrap();
        assert_eq!(m.spec.id, "t.one");
        assert_eq!(m.defaults, vec![("days".to_string(), ParamValue::Int(31))]);
        assert_eq!(m.bind(&[("days".into(), "10".into())]).unwrap()[0].1, ParamValue::Int(10));
        assert!(m.bind(&[("days".into(), "100".into())]).unwrap_err().contains("above the maximum 92"));
        assert!(m.bind(&[("nope".into(), "1".into())]).unwrap_err().contains("no parameter `nope`"));
    }

    #[test]
    fn errors_name_line_and_column() {
        let (_d, p) = write(&format!("{HEADER}*/\nSELECT id_no FROM t\nWHERE x > $limit\n"));
        let e = load(&p).unwrap_err();
        assert_eq!((e.line, e.column), (15, 11), "{e}");
        assert!(e.message.contains("`$limit` is not a declared parameter"));
        let (_d, p) = write(&(HEADER.replace("severity = \"high\"", "severity = \"urgent\"") + "*/\nSELECT 1"));
        let e = load(&p).unwrap_err();
        assert_eq!(e.line, 7, "{e}");
        let (_d, p) = write("SELECT 1");
        assert!(load(&p).unwrap_err().message.contains("starts with its header"));
        let (_d, p) = write(&format!("{HEADER}[params]\nn = {{ type = \"int\", default = 5 }}\n*/\nSELECT 1\n"));
        let e = load(&p).unwrap_err();
        assert!(e.message.contains("never uses `$n`") && e.line == 14, "{e}");
        let (_d, p) = write(&format!("{HEADER}schedule = \"every day\"\n*/\nSELECT 1\n"));
        assert!(load(&p).unwrap_err().message.contains("not a cron expression"));
    }

    #[test]
    fn duplicate_ids_are_errors_naming_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let body = format!("{HEADER}*/\nSELECT 1\n");
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/one.sql"), &body).unwrap();
        std::fs::write(dir.path().join("two.sql"), &body).unwrap();
        let all = load_dir(dir.path()).unwrap();
        assert_eq!(all.iter().filter(|r| r.is_ok()).count(), 1);
        let e = all.iter().find_map(|r| r.as_ref().err()).unwrap();
        assert!(e.message.contains("already the id of"), "{e}");
    }
}
