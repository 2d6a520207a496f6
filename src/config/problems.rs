//! Every problem of a configuration, not only the first, each in the file's
//! own words: the key as the file writes it (`alerts.min_tier`, never
//! figment's `default.` profile prefix) and the line where the file says it,
//! or the environment variable that set it.
//!
//! serde stops at the first value it cannot read. [`extract_all`] sets that
//! setting aside and reads the rest again, once per bad setting, so a file
//! with three wrong values gets three messages; the values that read are then
//! checked by [`super::Config::validate`] as usual.

use std::path::Path;

use figment::error::Kind;
use figment::providers::Serialized;
use figment::value::{Dict, Value};
use figment::{Figment, Profile, Provider};
use serde::de::DeserializeOwned;

/// Reads `T` from `figment`, collecting one message per setting that does not
/// read (a wrong type, an unknown key, a value out of an enum). Returns the
/// value read from the settings that are valid (`None` when not even those
/// read, e.g. a TOML syntax error), and the messages.
pub(super) fn extract_all<T: DeserializeOwned>(figment: &Figment) -> (Option<T>, Vec<String>) {
    let first = match figment.extract::<T>() {
        Ok(value) => return (Some(value), Vec::new()),
        Err(e) => e,
    };
    let Ok(data) = figment.data() else {
        return (None, first.into_iter().map(|e| e.to_string()).collect());
    };
    let mut dict = Dict::new();
    for profile in [Profile::Default, Profile::Global] {
        if let Some(layer) = data.get(&profile) {
            merge(&mut dict, layer.clone());
        }
    }
    let mut problems = Vec::new();
    let mut error = first;
    // Each round sets at least one setting aside, so the rounds are bounded
    // by the settings' count.
    for _ in 0..=leaves(&dict) {
        let mut removed = false;
        for e in error {
            let path = setting_path(&e);
            problems.push(describe(&path, &e.kind, figment));
            removed |= remove(&mut dict, &path);
        }
        if !removed {
            break;
        }
        match Figment::from(Serialized::defaults(&dict)).extract::<T>() {
            Ok(value) => return (Some(value), problems),
            Err(e) => error = e,
        }
    }
    (None, problems)
}

/// `problem` (from [`super::Config::validate`], which starts with the dotted
/// key) with where its key was set: the file's line or the variable.
pub(super) fn locate(problem: String, figment: &Figment) -> String {
    let key: String = problem
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'))
        .collect();
    let path: Vec<String> = key.split('.').map(str::to_owned).collect();
    if key.is_empty() || figment.find_metadata(&key).is_none() {
        return problem;
    }
    format!("{problem}{}", origin(&path, figment))
}

/// The path of the setting an error is about (an unknown field's own name
/// appended to its table's path, where figment leaves it out).
fn setting_path(error: &figment::Error) -> Vec<String> {
    let mut path = error.path.clone();
    if let Kind::UnknownField(field, _) = &error.kind
        && path.last() != Some(field)
    {
        path.push(field.clone());
    }
    path
}

/// `key: what is wrong (where)`.
fn describe(path: &[String], kind: &Kind, figment: &Figment) -> String {
    let key = if path.is_empty() { "the configuration".to_owned() } else { path.join(".") };
    format!("{key}: {kind}{}", origin(path, figment))
}

/// ` (FILE, line N)`, ` (from the environment: IVCD_A__B)`, or nothing.
fn origin(path: &[String], figment: &Figment) -> String {
    if path.is_empty() {
        return String::new();
    }
    let Some(metadata) = figment.find_metadata(&path.join(".")) else { return String::new() };
    if metadata.name.contains("environment") {
        return format!(" (from the environment: IVCD_{})", path.join("__").to_uppercase());
    }
    match metadata.source.as_ref().and_then(|s| s.file_path()) {
        Some(file) => match line_of(file, path) {
            Some(line) => format!(" ({}, line {line})", file.display()),
            None => format!(" ({})", file.display()),
        },
        None => String::new(),
    }
}

/// The 1-based line of `path`'s key in the TOML file `file`.
fn line_of(file: &Path, path: &[String]) -> Option<usize> {
    let text = std::fs::read_to_string(file).ok()?;
    let document = toml_edit::Document::parse(text.as_str()).ok()?;
    let (last, parents) = path.split_last()?;
    let mut table: &dyn toml_edit::TableLike = document.as_table();
    for segment in parents {
        table = table.get(segment)?.as_table_like()?;
    }
    let (key, _) = table.get_key_value(last)?;
    let start = key.span()?.start;
    Some(text.get(..start)?.matches('\n').count() + 1)
}

/// Merges `layer` into `into`, tables key by key, a later value winning.
fn merge(into: &mut Dict, layer: Dict) {
    for (key, value) in layer {
        match (into.get_mut(&key), value) {
            (Some(Value::Dict(_, existing)), Value::Dict(_, inner)) => merge(existing, inner),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// The number of settings (leaves) in `dict`.
fn leaves(dict: &Dict) -> usize {
    dict.values().map(|v| if let Value::Dict(_, inner) = v { leaves(inner) } else { 1 }).sum()
}

/// Removes the setting at `path`; whether one was there.
fn remove(dict: &mut Dict, path: &[String]) -> bool {
    match path {
        [] => false,
        [last] => dict.remove(last).is_some(),
        [first, rest @ ..] => match dict.get_mut(first) {
            Some(Value::Dict(_, inner)) => remove(inner, rest),
            _ => false,
        },
    }
}
