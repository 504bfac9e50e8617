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

/// What a citation to something outside this repository looks like: the spec folder's files,
/// the reference's section and weak-spot numbers, issue numbers and review labels. The
/// literals are split so this file does not cite what it forbids.
fn outside_citations(text: &str, defines_weak_spots: bool) -> Vec<(usize, String)> {
    let words = [
        concat!("DECI", "SIONS"),
        concat!("BAS", ".md"),
        concat!("STYLE", ".md"),
        concat!("extract-and", "-merge"),
        concat!("shared/", "spec"),
        concat!("Must", " show"),
    ];
    let mut hits = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let word = |i: usize| chars.get(i).is_some_and(|c| c.is_alphanumeric() || *c == '_');
        let digit = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
        let mut why: Vec<String> =
            words.iter().filter(|w| line.contains(*w)).map(|w| (*w).to_owned()).collect();
        for (i, c) in chars.iter().enumerate() {
            if *c == '\u{a7}' && digit(i + 1) {
                why.push("a section sign and number".to_owned());
            }
            // A weak-spot number is fine where it names docs/decisions.md on the same line.
            if *c == 'W'
                && !defines_weak_spots
                && !word(i.wrapping_sub(1))
                && digit(i + 1)
                && !line.contains("decisions.md")
            {
                let end = (i + 1..=chars.len()).find(|&j| !digit(j)).unwrap_or(chars.len());
                if !word(end) {
                    why.push("a weak-spot number without docs/decisions.md".to_owned());
                }
            }
        }
        let lower = line.to_lowercase();
        let mut from = 0;
        while let Some(p) = lower[from..].find("issue ") {
            let at = from + p + "issue ".len();
            if lower[at..].starts_with(|c: char| c.is_ascii_digit()) {
                why.push("an issue number".to_owned());
            }
            from = at;
        }
        if !why.is_empty() {
            hits.push((n + 1, why.join(", ")));
        }
    }
    hits
}

/// Every source and doc file stands alone: comments and docs cite files of this repository
/// (`docs/decisions.md E7`, `docs/decisions.md W14`, `docs/extraction.md`), never the spec
/// folder beside it, the reference's section numbers, issue numbers or review labels. The
/// sample files beside the repository may still be named as the place tests read them from.
#[test]
fn no_citation_points_outside_the_repository() {
    let root = repo().canonicalize().unwrap();
    let skip = |p: &Path| {
        let rel = p.strip_prefix(&root).unwrap_or(p);
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        ["target", "node_modules", ".git"].contains(&name)
            || rel == Path::new("themes/default/vendor")
            || rel == Path::new("dev/a11y/vendor")
    };
    let exts = ["rs", "md", "sh", "toml", "html", "js", "css"];
    let mut found = Vec::new();
    let mut scanned = 0;
    for e in walkdir::WalkDir::new(&root).into_iter().filter_entry(|e| !skip(e.path())) {
        let e = e.unwrap();
        let p = e.path();
        if !e.file_type().is_file() || !p.extension().is_some_and(|x| exts.iter().any(|e| x == *e))
        {
            continue;
        }
        let rel = p.strip_prefix(&root).unwrap();
        let text = std::fs::read_to_string(p).unwrap();
        scanned += 1;
        let defines = rel == Path::new("docs/decisions.md");
        for (line, why) in outside_citations(&text, defines) {
            found.push(format!("{}:{line}: {why}", rel.display()));
        }
    }
    assert!(scanned > 50, "only {scanned} files scanned under {}", root.display());
    assert!(found.is_empty(), "citations outside the repository:\n{}", found.join("\n"));
}

#[test]
fn the_citation_check_sees_each_kind() {
    let text = [
        concat!("see DECI", "SIONS 3"),
        concat!("fields in BAS", ".md"),
        concat!("STYLE", ".md rule"),
        "the reference (\u{a7}11.2)",
        concat!("a spike (W", "5)"),
        concat!("per issue", " 2"),
        concat!("Must", " show 4"),
        "fine: docs/decisions.md W5, 10 W of power, SW1A, W-shaped",
    ]
    .join("\n");
    let lines: Vec<usize> = outside_citations(&text, false).into_iter().map(|(n, _)| n).collect();
    assert_eq!(lines, vec![1, 2, 3, 4, 5, 6, 7]);
    assert!(outside_citations(concat!("W", "14 rounding"), true).is_empty());
}
