//! The module graph of every crate has no cycle, and `docs/architecture.md` names every
//! top-level module of the two programs.
//!
//! A module "uses" another when its code (comments and `#[cfg(test)]` parts left out) names a
//! path into it: `crate::a::b`, `super::x`, `self::y`, including `use` groups. Ownership (a
//! parent declaring its children, a child naming its parent's items) is not a use. This is the
//! check `cargo modules dependencies --acyclic` makes, without installing that tool.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Module path (`site::render`, `""` for the crate root) → source file, for every `.rs` file.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut mods = BTreeMap::new();
    for e in walkdir::WalkDir::new(src).into_iter().flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let rel = p.strip_prefix(src).unwrap().with_extension("");
        let mut parts: Vec<String> =
            rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        if parts.last().is_some_and(|l| l == "mod") {
            parts.pop();
        }
        if parts == ["lib"] || parts == ["main"] {
            parts.clear();
        }
        if parts.last().is_some_and(|l| l == "tests") {
            continue;
        }
        mods.insert(parts.join("::"), p.to_path_buf());
    }
    mods
}

/// The code of a file without comments and without its `#[cfg(test)]` tail.
fn code(text: &str) -> String {
    let text = text.find("#[cfg(test)]").map_or(text, |i| &text[..i]);
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

fn resolve(mods: &BTreeMap<String, PathBuf>, cur: &str, path: &[&str]) -> Option<String> {
    let mut base: Vec<&str> = if cur.is_empty() { Vec::new() } else { cur.split("::").collect() };
    let mut rest = path;
    match rest.first() {
        Some(&"crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some(&"super") => {
            while rest.first() == Some(&"super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        Some(&"self") => rest = &rest[1..],
        _ => return None,
    }
    (0..=rest.len()).rev().find_map(|k| {
        let cand: Vec<&str> = base.iter().copied().chain(rest[..k].iter().copied()).collect();
        let cand = cand.join("::");
        mods.contains_key(&cand).then_some(cand)
    })
}

/// Every path expression starting with `crate`, `super` or `self`, with `use` groups expanded
/// one level (`crate::a::{b, c::d}` gives `crate::a::b` and `crate::a::c::d`).
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < bytes.len() {
        let starts =
            ["crate::", "super::", "self::"].iter().any(|k| bytes[i..].starts_with(k.as_bytes()))
                && (i == 0 || !is_ident(bytes[i - 1]));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < bytes.len() && (is_ident(bytes[j]) || bytes[j] == b':') {
            j += 1;
        }
        let head: Vec<String> =
            code[i..j].split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect();
        if j < bytes.len() && bytes[j] == b'{' {
            let end = code[j..].find('}').map_or(bytes.len(), |e| j + e);
            for item in code[j + 1..end].split(',') {
                let item = item.split(" as ").next().unwrap_or("").trim();
                if item.is_empty() {
                    continue;
                }
                let mut p = head.clone();
                p.extend(item.split("::").map(|s| s.trim().to_owned()));
                out.push(p);
            }
            i = end;
        } else {
            out.push(head);
            i = j;
        }
    }
    out
}

fn cycles(src: &Path) -> Vec<String> {
    let mods = modules(src);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, file) in &mods {
        let text = code(&std::fs::read_to_string(file).unwrap());
        for p in paths(&text) {
            let parts: Vec<&str> = p.iter().map(String::as_str).collect();
            let Some(t) = resolve(&mods, m, &parts) else { continue };
            let owns = |a: &str, b: &str| a.is_empty() || b.starts_with(&format!("{a}::"));
            if t != *m && !owns(&t, m) && !owns(m, &t) {
                graph.entry(m.clone()).or_default().insert(t);
            }
        }
    }
    // Depth-first search; a back edge is a cycle.
    fn visit(
        u: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        found: &mut Vec<String>,
    ) {
        state.insert(u.to_owned(), 1);
        stack.push(u.to_owned());
        for v in graph.get(u).into_iter().flatten() {
            match state.get(v.as_str()) {
                Some(1) => {
                    let at = stack.iter().position(|s| s == v).unwrap_or(0);
                    found.push(format!("{} -> {v}", stack[at..].join(" -> ")));
                }
                Some(_) => {}
                None => visit(v, graph, state, stack, found),
            }
        }
        stack.pop();
        state.insert(u.to_owned(), 2);
    }
    let (mut state, mut stack, mut found) = (BTreeMap::new(), Vec::new(), Vec::new());
    for m in mods.keys() {
        if !state.contains_key(m.as_str()) {
            visit(m, &graph, &mut state, &mut stack, &mut found);
        }
    }
    assert!(mods.len() > 5, "{}: only {} modules found", src.display(), mods.len());
    found
}

#[test]
fn no_crate_has_a_module_cycle() {
    let mut all = Vec::new();
    for src in ["generator/src", "generator/bas/src", "apiserver/src", "dev/src"] {
        all.extend(cycles(&repo().join(src)).into_iter().map(|c| format!("{src}: {c}")));
    }
    assert!(all.is_empty(), "module cycles:\n{}", all.join("\n"));
}

#[test]
fn the_cycle_check_sees_a_cycle() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path();
    std::fs::create_dir_all(src.join("b")).unwrap();
    std::fs::write(
        src.join("lib.rs"),
        "pub mod a;\npub mod b;\npub mod c;\npub mod d;\npub mod e;\npub mod f;\n",
    )
    .unwrap();
    std::fs::write(src.join("a.rs"), "use crate::b::{x, y::z};\n").unwrap();
    std::fs::write(src.join("b/mod.rs"), "pub mod y;\nuse super::c; // crate::a in a comment\n")
        .unwrap();
    std::fs::write(src.join("b/y.rs"), "").unwrap();
    std::fs::write(src.join("c.rs"), "fn f() { crate::a::g(); }\n").unwrap();
    for f in ["d.rs", "e.rs", "f.rs"] {
        std::fs::write(src.join(f), "#[cfg(test)]\nmod tests { use crate::a; }\n").unwrap();
    }
    let found = cycles(src);
    assert_eq!(found, vec!["a -> b -> c -> a".to_owned()]);
}

#[test]
fn architecture_doc_names_every_top_level_module() {
    let doc = std::fs::read_to_string(repo().join("docs/architecture.md")).unwrap();
    let mut missing = Vec::new();
    for src in ["generator/src", "apiserver/src"] {
        for m in modules(&repo().join(src)).keys() {
            let top = m.split("::").next().unwrap_or("");
            if !top.is_empty() && !doc.contains(&format!("`{top}")) {
                missing.push(format!("{src}: {top}"));
            }
        }
    }
    missing.dedup();
    assert!(missing.is_empty(), "docs/architecture.md does not name: {missing:?}");
}
