//! Keeps the suite complete: every method of every repository trait (and of `WriteTx`) is called
//! somewhere in this suite. A method added to the store without a test fails here.
use std::collections::BTreeMap;
use std::path::PathBuf;

fn read_dir_rs(dir: PathBuf) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("source"))
        })
        .collect();
    out.sort();
    out
}

/// `trait name → methods` of the store's public traits whose methods the suite must call.
fn store_trait_methods() -> BTreeMap<String, Vec<String>> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut traits = BTreeMap::new();
    for (_, text) in read_dir_rs(src) {
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("pub trait ") {
                let name: String =
                    rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if name.ends_with("Reads") || name.ends_with("Writes") || name == "WriteTx" {
                    current = Some(name);
                }
            } else if line == "}" {
                current = None;
            } else if let (Some(t), Some(rest)) = (&current, line.trim().strip_prefix("async fn "))
            {
                let method: String =
                    rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                traits.entry(t.clone()).or_insert_with(Vec::new).push(method);
            }
        }
    }
    traits
}

#[test]
fn every_repository_method_is_exercised() {
    let traits = store_trait_methods();
    // The sixteen areas, each a Reads and a Writes trait, plus WriteTx.
    assert_eq!(traits.len(), 33, "traits found: {:?}", traits.keys().collect::<Vec<_>>());
    let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("store");
    let suite: String = read_dir_rs(tests)
        .into_iter()
        .filter(|(name, _)| name != "coverage.rs")
        .map(|(_, text)| text)
        .collect();
    let mut missing = Vec::new();
    let mut total = 0;
    for (t, methods) in &traits {
        for m in methods {
            total += 1;
            // Called as a method (`tx.name(`), possibly after a line break (`.name(`).
            if !suite.contains(&format!(".{m}(")) {
                missing.push(format!("{t}::{m}"));
            }
        }
    }
    assert!(missing.is_empty(), "not exercised by the store suite: {}", missing.join(", "));
    eprintln!("{total} operations in {} traits, all exercised", traits.len());
    assert!(total >= 100, "found only {total} operations");
}
