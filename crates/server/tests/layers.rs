//! The server's layers import one way: `domain` ← `app` ← `http` (and `startup`, which
//! builds them all). This test reads every module's source and fails on an import that goes
//! the other way, or on a lower layer that reaches for HTTP or the database directly.

use std::path::{Path, PathBuf};

/// A layer, by the top module its files live under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    Domain,
    App,
    Http,
    /// `lib.rs` and `startup.rs`: the composition root.
    Root,
}

impl Layer {
    fn of_module(name: &str) -> Option<Layer> {
        match name {
            "domain" => Some(Layer::Domain),
            "app" => Some(Layer::App),
            "http" => Some(Layer::Http),
            "startup" => Some(Layer::Root),
            _ => None,
        }
    }

    /// Crates a layer must not use: the domain is plain rules, the application layer
    /// knows no HTTP.
    fn forbidden_crates(self) -> &'static [&'static str] {
        match self {
            Layer::Domain => &[
                "axum",
                "tokio",
                "sqlx",
                "pointerprint_storage",
                "tower_http",
            ],
            Layer::App => &["axum", "tower_http", "askama"],
            Layer::Http | Layer::Root => &[],
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without comments (line comments only: the crate has no block comments).
fn code(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top modules named by `crate::` paths in `code`, grouped imports included.
fn crate_modules(code: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut modules = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            modules.extend(group.split(',').map(ident));
        } else {
            modules.push(ident(rest));
        }
    }
    modules.retain(|m| !m.is_empty());
    modules
}

/// What is wrong with the imports of one file of `layer`.
fn violations(layer: Layer, code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for module in crate_modules(code) {
        match Layer::of_module(&module) {
            Some(target) if target > layer => found.push(format!(
                "imports crate::{module} ({target:?} is above {layer:?})"
            )),
            Some(_) => {}
            None if layer == Layer::Root => {}
            None => found.push(format!("imports crate::{module}, which is in no layer")),
        }
    }
    for name in layer.forbidden_crates() {
        if code.contains(&format!("{name}::")) {
            found.push(format!("uses {name}, which {layer:?} must not"));
        }
    }
    found
}

#[test]
fn the_checker_sees_imports_that_go_up() {
    let up = "use crate::http::error::ApiError;\nuse crate::{app::App, domain::ids};";
    assert_eq!(violations(Layer::Domain, up).len(), 2);
    assert_eq!(violations(Layer::App, up).len(), 1);
    assert!(violations(Layer::Http, up).is_empty());
    assert_eq!(
        violations(Layer::App, &code("// crate::http in a comment\n")).len(),
        0
    );
    assert_eq!(violations(Layer::App, "use axum::Json;").len(), 1);
    assert_eq!(violations(Layer::Domain, "use crate::state::X;").len(), 1);
}

#[test]
fn layers_import_only_downwards() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut counts = [0usize; 3];
    let mut problems = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative.components().next().unwrap().as_os_str();
        let top = top.to_string_lossy();
        let layer = match top.trim_end_matches(".rs") {
            "lib" => Layer::Root,
            name => Layer::of_module(name)
                .unwrap_or_else(|| panic!("{} is in no layer", relative.display())),
        };
        if let Some(count) = counts.get_mut(layer as usize) {
            *count += 1;
        }
        let source = std::fs::read_to_string(file).unwrap();
        for problem in violations(layer, &code(&source)) {
            problems.push(format!("{}: {problem}", relative.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Each layer has its modules (the check would pass vacuously on a renamed folder).
    assert!(
        counts.iter().all(|&n| n >= 5),
        "files per layer: {counts:?}"
    );
}
