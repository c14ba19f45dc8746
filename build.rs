//! Embeds the model library and the canonical schema (`models/**/*.sql`, `*.toml`) into the
//! binary, so an installed searchlight runs the library outside this repository.

use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "sql" || x == "toml") {
            out.push(p);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let models = root.join("models");
    println!("cargo:rerun-if-changed=models");
    let mut files = Vec::new();
    collect(&models, &mut files);
    files.sort();
    let mut out = String::from(
        "/// Files of the bundled library: (path relative to the project, text).\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        let rel = f.strip_prefix(&root).expect("under the root").to_string_lossy().replace('\\', "/");
        out.push_str(&format!("    ({rel:?}, include_str!({:?})),\n", f.display().to_string()));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("library_files.rs");
    std::fs::write(dest, out).expect("write the library index");
}
