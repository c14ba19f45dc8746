//! The bundled library: the model files, their tests, the label glossary and the canonical
//! schema of `models/`, compiled into the binary (by `build.rs`), so that an installed
//! searchlight works on a county's own project outside this repository. A project's own
//! `models/` adds models to it and overrides bundled ones by id.

include!(concat!(env!("OUT_DIR"), "/library_files.rs"));

/// Prefix shown in place of a directory for bundled files (`searchlight:models/relief/….sql`).
pub const BUNDLED_PREFIX: &str = "searchlight:";

/// The text of a bundled file by its path relative to the project (`models/labels.toml`).
pub fn file(path: &str) -> Option<&'static str> {
    FILES.iter().find(|(p, _)| *p == path).map(|(_, t)| *t)
}

/// The bundled model files (`models/**/*.sql`), as (path, text).
pub fn model_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    FILES.iter().copied().filter(|(p, _)| p.ends_with(".sql"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_library_is_embedded() {
        assert!(super::model_files().count() >= 41);
        assert!(super::file("models/labels.toml").is_some());
        assert!(super::file("models/schema/value_sets.toml").is_some());
    }
}
