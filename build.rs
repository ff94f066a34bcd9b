//! Embeds every `queries/**/*.sql` file (the built-in SQL library) and every
//! `report-templates/**/*.hbs` file (the built-in report templates) in the binary.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

/// Writes `OUT_DIR/<out>`: a `BUILTIN` table of (path relative to `dir`, text) of every `*.ext` file.
fn embed(root: &Path, dir: &str, ext: &str, what: &str, out: &str) {
    let base = root.join(dir);
    println!("cargo:rerun-if-changed={dir}");
    let mut files = Vec::new();
    collect(&base, ext, &mut files);
    files.sort();
    let mut code = format!(
        "/// (path relative to {dir}/, text) of every built-in {what}.\npub static BUILTIN: &[(&str, &str)] = &[\n"
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&base).unwrap().to_string_lossy().replace('\\', "/");
        writeln!(code, "    ({rel:?}, include_str!({:?})),", f.display().to_string()).unwrap();
    }
    code.push_str("];\n");
    std::fs::write(PathBuf::from(std::env::var("OUT_DIR").unwrap()).join(out), code).unwrap();
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    embed(&root, "queries", "sql", "query", "builtin_queries.rs");
    embed(&root, "report-templates", "hbs", "report template", "builtin_templates.rs");
    encryption_module();
}

/// Compiles src/store/crypto/os_random.cpp, scudo's encryption module for DuckDB, against the
/// bundled DuckDB's own headers (libduckdb-sys publishes their directory as `DEP_DUCKDB_INCLUDE`).
/// `NDEBUG` matches how the bundled DuckDB is compiled under this crate's profiles (dependencies are
/// built without debug info, so libduckdb-sys defines `NDEBUG`).
fn encryption_module() {
    let source = "src/store/crypto/os_random.cpp";
    println!("cargo:rerun-if-changed={source}");
    println!("cargo:rerun-if-env-changed=DEP_DUCKDB_INCLUDE");
    let include = PathBuf::from(
        std::env::var("DEP_DUCKDB_INCLUDE")
            .expect("libduckdb-sys did not publish DuckDB's include directory; scudo needs its `bundled` feature"),
    );
    let duckdb = include.parent().and_then(Path::parent).expect("DuckDB's source tree").to_path_buf();
    cc::Build::new()
        .cpp(true)
        .file(source)
        .include(&include)
        .include(duckdb.join("third_party/mbedtls/include"))
        .flag_if_supported("-std=c++17")
        .define("NDEBUG", None)
        .warnings(false)
        .flag_if_supported("-w")
        .compile("scudo_crypto");
}
