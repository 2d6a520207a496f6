//! The shipped configuration files in `config/`: every one loads, and
//! `ivcd.example.toml` documents every key of [`Config`] at its default, so
//! the example cannot silently fall behind the struct.
//!
//! No test here sets environment variables (the tests share one process).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Toml};
use ivcd::config::Config;

fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config")
}

fn example_path() -> PathBuf {
    config_dir().join("ivcd.example.toml")
}

/// Every `*.toml` in `config/`, sorted.
fn config_files() -> Vec<PathBuf> {
    let dir = config_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

/// The file alone over the defaults, without the `IVCD_*` environment (which
/// a developer's shell or CI, e.g. `IVCD_DATA_DIR`, may set).
fn load_file_only(path: &Path) -> Config {
    Config::from_figment(&Figment::from(Toml::file_exact(path)), path.display().to_string())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The dotted paths of every non-table value under `table`, e.g. `analysis.tiers.good`.
fn key_paths(table: &toml::Table, prefix: &str, out: &mut BTreeSet<String>) {
    for (key, value) in table {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            toml::Value::Table(inner) => key_paths(inner, &path, out),
            _ => {
                out.insert(path);
            }
        }
    }
}

/// The dotted paths of the commented-out keys (`# name = ...`) of a TOML
/// text, each under the table header (`[a.b]`) that precedes it.
fn commented_key_paths(text: &str) -> BTreeSet<String> {
    let mut section = String::new();
    let mut out = BTreeSet::new();
    for line in text.lines().map(str::trim) {
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            section = header.trim().to_owned();
        } else if let Some(comment) = line.strip_prefix('#') {
            let Some((name, _)) = comment.split_once('=') else { continue };
            let name = name.trim();
            let is_key = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if is_key {
                out.insert(if section.is_empty() { name.to_owned() } else { format!("{section}.{name}") });
            }
        }
    }
    out
}

#[test]
fn every_shipped_config_file_is_valid() {
    let files = config_files();
    assert!(files.contains(&example_path()), "config/ivcd.example.toml is missing: {files:?}");
    for path in &files {
        if let Err(e) = Config::load(Some(path)) {
            panic!("{} is not a valid configuration:\n{e}", path.display());
        }
        let config = load_file_only(path);
        assert!(
            !config.tradier.token.is_set() && !config.alpha_vantage.api_key.is_set(),
            "{} must not hold secrets; they come from the environment",
            path.display()
        );
    }
}

#[test]
fn example_documents_every_key() {
    let defaults = toml::Value::try_from(Config::default()).expect("the default configuration serializes");
    let toml::Value::Table(defaults) = defaults else { panic!("the configuration is not a table") };
    let mut expected = BTreeSet::new();
    key_paths(&defaults, "", &mut expected);
    assert!(expected.contains("analysis.tiers.good"), "the walk reaches nested tables: {expected:?}");

    let path = example_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let active: toml::Table = text.parse().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut active_paths = BTreeSet::new();
    key_paths(&active, "", &mut active_paths);
    for secret in ["tradier.token", "alpha_vantage.api_key"] {
        assert!(!active_paths.contains(secret), "{secret} must be commented out in the example");
    }

    let mut documented = active_paths;
    documented.extend(commented_key_paths(&text));
    let missing: Vec<&String> = expected.difference(&documented).collect();
    assert!(missing.is_empty(), "{} does not document these keys: {missing:?}", path.display());
}

#[test]
fn example_values_are_the_defaults() {
    let example = load_file_only(&example_path());
    assert_eq!(
        example.to_redacted_toml(),
        Config::default().to_redacted_toml(),
        "config/ivcd.example.toml must set every key to its default"
    );
}
