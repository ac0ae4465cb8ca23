//! Lists the migrations: every `migrations/sqlite/NNNN_name.sql` must have its
//! `migrations/postgres/NNNN_name.sql` twin, so adding a migration is adding the two files.
use std::fmt::Write as _;
use std::path::Path;

fn list(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    println!("cargo:rerun-if-changed={}", root.display());
    let sqlite = list(&root.join("sqlite"));
    let postgres = list(&root.join("postgres"));
    assert_eq!(sqlite, postgres, "every migration needs a SQLite and a PostgreSQL version");
    let mut out = String::new();
    for (backend, konst) in [("sqlite", "SQLITE"), ("postgres", "POSTGRES")] {
        writeln!(out, "pub(crate) const {konst}: EmbeddedMigrations = EmbeddedMigrations(&[").ok();
        for name in &sqlite {
            let stem = name.trim_end_matches(".sql");
            let (version, description) =
                stem.split_once('_').unwrap_or_else(|| panic!("{name}: expected NNNN_name.sql"));
            let version: i64 = version.parse().unwrap_or_else(|_| panic!("{name}: bad version"));
            let path = root.join(backend).join(name);
            writeln!(
                out,
                "    ({version}, {:?}, include_str!({:?})),",
                description.replace('_', " "),
                path.display().to_string()
            )
            .ok();
        }
        writeln!(out, "]);").ok();
    }
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(&dest, out).expect("write migrations.rs");
}
