//! Zip archives of exports: a connector with `members = "*.csv"` reads the members of every
//! archive its location finds that match the pattern, each as an export of its own (its name in
//! messages and manifests is `archive.zip!/member`). Member names written in GBK, as Windows
//! writes them without the UTF-8 flag, are read as such. Extraction is bounded: a member larger
//! than [`MAX_MEMBER`] or an archive whose members add up past [`MAX_TOTAL`] is an error, so a
//! zip bomb fails its ingest and nothing else.

use std::io::Read;
use std::sync::Arc;

use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::{Error, Result, SourceFile};

/// The largest member read (uncompressed).
pub const MAX_MEMBER: u64 = 4 << 30;
/// The most an archive's chosen members may add up to (uncompressed).
pub const MAX_TOTAL: u64 = 16 << 30;

/// The members of the archives matching `pattern`, as source files held in memory.
pub async fn members(archives: Vec<SourceFile>, pattern: &str) -> Result<Vec<SourceFile>> {
    let matcher = globset::Glob::new(pattern)
        .map_err(|e| Error::Source { file: pattern.to_string(), message: format!("bad members pattern: {e}") })?
        .compile_matcher();
    let mut out = Vec::new();
    for a in archives {
        let err = |message: String| Error::Input { file: a.display.clone(), line: 0, message };
        let bytes = a
            .store
            .get(&a.path)
            .await
            .map_err(|e| Error::Store { file: a.display.clone(), source: e })?
            .bytes()
            .await
            .map_err(|e| Error::Store { file: a.display.clone(), source: e })?;
        let m = matcher.clone();
        let files = tokio::task::spawn_blocking(move || extract(&bytes, &m))
            .await
            .map_err(|e| err(format!("reading the archive: {e}")))?
            .map_err(err)?;
        let store: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        for (name, data) in files {
            // `Path::parse` keeps the name as it is (`Path::from` would percent-encode 城关镇)
            let clean: Vec<&str> = name.split('/').filter(|p| !p.is_empty() && *p != ".." && *p != ".").collect();
            let path =
                object_store::path::Path::parse(clean.join("/")).map_err(|e| err(format!("member `{name}`: {e}")))?;
            let size = data.len() as u64;
            store
                .put(&path, PutPayload::from(data))
                .await
                .map_err(|e| Error::Store { file: a.display.clone(), source: e })?;
            out.push(SourceFile { display: format!("{}!/{name}", a.display), store: store.clone(), path, size });
        }
    }
    out.sort_by(|x, y| x.display.cmp(&y.display));
    Ok(out)
}

/// Every member of an archive (files, not folders), read whole (bounded): for drafting.
pub fn all_members(bytes: &[u8]) -> std::result::Result<Vec<(String, Vec<u8>)>, String> {
    let any = globset::Glob::new("*").map_err(|e| e.to_string())?.compile_matcher();
    extract(bytes, &any)
}

/// The members whose names match, read whole (bounded).
fn extract(bytes: &[u8], matcher: &globset::GlobMatcher) -> std::result::Result<Vec<(String, Vec<u8>)>, String> {
    let mut zip =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| format!("not a readable zip archive: {e}"))?;
    let mut out = Vec::new();
    let mut total = 0u64;
    let mut names = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|e| format!("member {i}: {e}"))?;
        if f.is_dir() {
            continue;
        }
        let name = member_name(f.name_raw());
        names.push(name.clone());
        let leaf = name.rsplit('/').next().unwrap_or(&name).to_string();
        if !matcher.is_match(&name) && !matcher.is_match(&leaf) {
            continue;
        }
        if f.encrypted() {
            return Err(format!("member `{name}` is encrypted"));
        }
        let mut data = Vec::new();
        // the declared size may lie: read one byte past the bound to know
        let read = (&mut f).take(MAX_MEMBER + 1).read_to_end(&mut data).map_err(|e| format!("member `{name}`: {e}"))?;
        if read as u64 > MAX_MEMBER {
            return Err(format!("member `{name}` is larger than {} GiB uncompressed", MAX_MEMBER >> 30));
        }
        total += read as u64;
        if total > MAX_TOTAL {
            return Err(format!("the members add up to more than {} GiB uncompressed", MAX_TOTAL >> 30));
        }
        out.push((name, data));
    }
    if out.is_empty() {
        names.truncate(20);
        return Err(format!("no member of the archive matches `{}` (members: {})", matcher.glob(), names.join(", ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn member_names_written_in_gbk_read_as_chinese() {
        let (gbk, _, _) = encoding_rs::GBK.encode("2025年/低保发放.csv");
        assert_eq!(super::member_name(&gbk), "2025年/低保发放.csv");
        assert_eq!(super::member_name("低保.csv".as_bytes()), "低保.csv");
    }
}

/// A member's name: UTF-8 when it is, else GB 18030 (Windows' Chinese code page).
pub fn member_name(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(raw).0.into_owned(),
    }
}
