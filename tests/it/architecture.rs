//! The module layers of `docs/ARCHITECTURE.md`, enforced: every `crate::`
//! path in the library's code (unit tests aside) names a module of a
//! strictly lower layer, so no import cycle can form and nothing reaches up
//! (the analysis never into the jobs, the providers never into the
//! configuration, ...). The table below must equal the document's.
//!
//! A small reader of Rust text, no parser crate: it drops comments, string
//! and character literals, skips every item marked `#[cfg(test)]` (unit
//! tests may reach up, e.g. the analysis's tests read recorded chains
//! through `providers::files`), and reads the `crate::` paths of what is
//! left, `use crate::{a, b::c}` groups included.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first: a module may use only modules of a lower
/// layer. `docs/ARCHITECTURE.md`, section "Layers", lists the same.
const LAYERS: &[(u32, &[&str])] = &[
    (1, &["clock", "domain", "redact", "settings", "time"]),
    (2, &["calendar", "net"]),
    (3, &["analysis"]),
    (4, &["report", "review"]),
    (5, &["store"]),
    (6, &["present", "providers", "timetable"]),
    (7, &["alert", "calibration", "status"]),
    (8, &["config"]),
    (9, &["jobs", "metrics"]),
    (10, &["replay"]),
    (11, &["daemon"]),
    (12, &["cli"]),
];

fn layer_of() -> BTreeMap<&'static str, u32> {
    LAYERS.iter().flat_map(|(layer, modules)| modules.iter().map(move |m| (*m, *layer))).collect()
}

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text with comments, string and character literals blanked out
/// (newlines kept, so line numbers stay true).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let keep_newlines = |from: usize, to: usize, out: &mut String| {
        for c in &chars[from..to.min(chars.len())] {
            if *c == '\n' {
                out.push('\n');
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let (start, mut depth) = (i, 0);
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            keep_newlines(start, i, &mut out);
        } else if (c == 'r' || (c == 'b' && next == Some('r')))
            && !chars.get(i.wrapping_sub(1)).is_some_and(|p| p.is_alphanumeric() || *p == '_')
            && {
                let mut j = i + if c == 'b' { 2 } else { 1 };
                while chars.get(j) == Some(&'#') {
                    j += 1;
                }
                chars.get(j) == Some(&'"')
            }
        {
            // A raw string: r"...", r#"..."#, br"...".
            let start = i;
            i += if c == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while chars[i] == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            while i < chars.len() {
                if chars[i] == '"' && (0..hashes).all(|h| chars.get(i + 1 + h) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
            keep_newlines(start, i, &mut out);
            out.push_str("\"\"");
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            keep_newlines(start, i, &mut out);
            out.push_str("\"\"");
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal ('x', '\n', '\''), not a lifetime.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The code without the items marked `#[cfg(test)]` (blanked, newlines kept).
fn without_tests(code: &str) -> String {
    let mut out = code.to_owned();
    let marker = "#[cfg(test)]";
    let mut from = 0;
    while let Some(at) = out[from..].find(marker).map(|i| i + from) {
        let bytes = out.as_bytes();
        let mut end = at + marker.len();
        // The item ends at its first `;` before any `{`, or where its braces close.
        let mut depth = 0usize;
        while end < bytes.len() {
            match bytes[end] {
                b';' if depth == 0 => {
                    end += 1;
                    break;
                }
                b'{' => depth += 1,
                b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end += 1;
                        break;
                    }
                }
                _ => {}
            }
            end += 1;
        }
        let blank: String = out[at..end].chars().map(|c| if c == '\n' { '\n' } else { ' ' }).collect();
        out.replace_range(at..end, &blank);
        from = at + blank.len();
    }
    out
}

/// The first segment of every path under `crate::` (and of `super::`
/// paths that leave the file's top-level module), with its line.
fn crate_paths(code: &str, module_path: &[String]) -> Vec<(usize, String)> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let ident = |at: usize| -> String {
        code[at..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
    };
    let mut at = 0;
    while at < bytes.len() {
        let preceded_by_ident = at > 0
            && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_' || bytes[at - 1] == b':');
        let (root, rest) = if code[at..].starts_with("crate::") && !preceded_by_ident {
            (Some(Vec::new()), at + "crate::".len())
        } else if code[at..].starts_with("super::") && !preceded_by_ident {
            let mut depth = 0;
            let mut rest = at;
            while code[rest..].starts_with("super::") {
                depth += 1;
                rest += "super::".len();
            }
            // A file's module path: src/alert/views.rs is [alert, views]; `super` of
            // src/alert/mod.rs ([alert]) is the crate root.
            (module_path.len().checked_sub(depth).map(|keep| module_path[..keep].to_vec()), rest)
        } else {
            (None, at)
        };
        let Some(root) = root else {
            at += 1;
            continue;
        };
        if let Some(first) = root.first() {
            // Still inside a top-level module: the path names that module.
            found.push((line_of(at), first.clone()));
        } else if code[rest..].starts_with('{') {
            // A group: every top-level name in it.
            let (mut depth, mut i, mut start) = (0, rest + 1, rest + 1);
            while i < bytes.len() {
                match bytes[i] {
                    b'{' => depth += 1,
                    b'}' if depth == 0 => break,
                    b'}' => depth -= 1,
                    b',' if depth == 0 => {
                        let name = ident(start + code[start..i].len() - code[start..i].trim_start().len());
                        found.push((line_of(start), name));
                        start = i + 1;
                    }
                    _ => {}
                }
                i += 1;
            }
            let last = code[start..i].trim_start();
            if !last.is_empty() {
                found.push((line_of(start), ident(i - code[start..i].trim_start().len())));
            }
            at = i;
            continue;
        } else {
            found.push((line_of(at), ident(rest)));
        }
        at = rest;
    }
    found.retain(|(_, name)| !name.is_empty() && name != "self");
    found
}

/// `alert::views` for src/alert/views.rs, `alert` for src/alert/mod.rs.
fn module_path(file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> =
        relative.iter().map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// Every edge from one top-level module to another: (from, to) -> `file:line`s.
fn edges() -> BTreeMap<(String, String), Vec<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut edges: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for file in files {
        let path = module_path(&file);
        let Some(from) = path.first().cloned() else { continue };
        if from == "lib" || from == "main" {
            continue; // the crate root declares the modules; main calls cli::main
        }
        let code = without_tests(&code_only(&std::fs::read_to_string(&file).unwrap()));
        for (line, to) in crate_paths(&code, &path) {
            // `crate::VERSION` and `crate::GIT_COMMIT` are the crate root's constants.
            if to == from || to.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
                continue;
            }
            let at = format!("{}:{line}", file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().display());
            edges.entry((from.clone(), to)).or_default().push(at);
        }
    }
    edges
}

#[test]
fn every_import_points_to_a_lower_layer() {
    let layers = layer_of();
    let edges = edges();
    assert!(edges.len() > 50, "the reader found only {} edges: is it still reading the code?", edges.len());
    let mut wrong = Vec::new();
    for ((from, to), places) in &edges {
        let (Some(a), Some(b)) = (layers.get(from.as_str()), layers.get(to.as_str())) else {
            let unknown = if layers.contains_key(from.as_str()) { to } else { from };
            wrong.push(format!(
                "{}: module `{unknown}` has no layer: add it to the Layers table of docs/ARCHITECTURE.md and to \
                 LAYERS in tests/it/architecture.rs",
                places[0]
            ));
            continue;
        };
        if b >= a {
            for place in places {
                wrong.push(format!("{place}: {from} (layer {a}) -> {to} (layer {b})"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that do not point to a lower layer (docs/ARCHITECTURE.md, \"Layers\"):\n{}",
        wrong.join("\n")
    );
    println!("architecture: {} module edges, all downward", edges.len());
}

#[test]
fn the_module_graph_has_no_cycle() {
    // Implied by the layers; checked on its own so a change of the table
    // that allowed a cycle would still fail here.
    let edges = edges();
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        graph.entry(from).or_default().insert(to);
    }
    // Kahn's algorithm: what cannot be ordered lies on a cycle.
    let nodes: BTreeSet<&str> =
        graph.iter().flat_map(|(f, ts)| std::iter::once(*f).chain(ts.iter().copied())).collect();
    let mut incoming: BTreeMap<&str, usize> = nodes.iter().map(|n| (*n, 0)).collect();
    for targets in graph.values() {
        for t in targets {
            *incoming.entry(t).or_default() += 1;
        }
    }
    let mut ready: Vec<&str> = incoming.iter().filter(|(_, n)| **n == 0).map(|(m, _)| *m).collect();
    let mut ordered = 0;
    while let Some(m) = ready.pop() {
        ordered += 1;
        for t in graph.get(m).into_iter().flatten() {
            let n = incoming.get_mut(t).unwrap();
            *n -= 1;
            if *n == 0 {
                ready.push(t);
            }
        }
    }
    // What is left, less what only leads out of it (repeatedly): the cycles.
    let mut left: BTreeSet<&str> = incoming.iter().filter(|(_, n)| **n > 0).map(|(m, _)| *m).collect();
    loop {
        let leaves: Vec<&str> = left
            .iter()
            .filter(|m| !graph.get(**m).is_some_and(|ts| ts.iter().any(|t| left.contains(t))))
            .copied()
            .collect();
        if leaves.is_empty() {
            break;
        }
        for m in leaves {
            left.remove(m);
        }
    }
    assert_eq!(ordered, nodes.len(), "modules on an import cycle: {left:?}");
}

#[test]
fn every_module_has_a_layer_and_the_document_lists_the_same_layers() {
    // Every top-level module of src/ is in the table.
    let mut modules: BTreeSet<String> = BTreeSet::new();
    for entry in std::fs::read_dir(src()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name != "lib" && name != "main" && (path.is_dir() || path.extension().is_some_and(|e| e == "rs")) {
            modules.insert(name);
        }
    }
    let listed: BTreeSet<String> = layer_of().keys().map(|m| (*m).to_owned()).collect();
    assert_eq!(modules, listed, "the modules of src/ against LAYERS");

    // docs/ARCHITECTURE.md's "Layers" table: | N name | `a`, `b` | ... |
    let doc = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/ARCHITECTURE.md"))
        .unwrap();
    let section = doc.split("\n## Layers").nth(1).expect("docs/ARCHITECTURE.md has a \"## Layers\" section");
    let section = section.split("\n## ").next().unwrap();
    let mut documented: Vec<(u32, Vec<String>)> = Vec::new();
    for row in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let Some(layer) = cells.get(1).and_then(|c| c.split_whitespace().next()).and_then(|n| n.parse().ok())
        else {
            continue; // the header and its rule
        };
        let names = cells[2].split('`').skip(1).step_by(2).map(str::to_owned).collect();
        documented.push((layer, names));
    }
    let expected: Vec<(u32, Vec<String>)> =
        LAYERS.iter().map(|(n, ms)| (*n, ms.iter().map(|m| (*m).to_owned()).collect())).collect();
    assert_eq!(documented, expected, "docs/ARCHITECTURE.md's Layers table against LAYERS in this test");
}

#[test]
fn only_the_store_names_sqlite() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let outside: Vec<String> = files
        .iter()
        .filter(|f| !f.starts_with(src().join("store")))
        .filter(|f| without_tests(&code_only(&std::fs::read_to_string(f).unwrap())).contains("rusqlite"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(outside.is_empty(), "rusqlite named outside src/store/: {outside:?}");
}

#[test]
fn the_reader_sees_what_the_compiler_sees() {
    // The reader of this file on small cases, so a blind spot fails here
    // rather than letting a wrong import through.
    let code = code_only(
        "use crate::{alert::x, store::{a, b},\n    report};\n// crate::cli in a comment\nlet s = \"crate::cli\";\n\
         let c = '{'; fn f<'a>(x: &'a str) { crate::time::et(x) }\n#[cfg(test)]\nmod tests { use crate::cli; }\n\
         let r = r#\"crate::jobs\"#; super::super::daemon::run();",
    );
    let names: Vec<(usize, String)> = crate_paths(&without_tests(&code), &["alert".into(), "views".into()]);
    let names: Vec<&str> = names.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["alert", "store", "report", "time", "daemon"]);
}
