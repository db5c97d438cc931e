//! The library's architecture, checked on its source (issue 45): its
//! top-level modules form layers that depend only downwards, and its files
//! form no circles.
//!
//! # The rules
//!
//! **Layers.** Every top-level module of the library (`src/NAME.rs` or
//! `src/NAME/`) has a rank in [`LAYERS`], lowest first. A file of module `A`
//! may refer to `crate::B…` with `B ≠ A` only if `rank(B) < rank(A)`: a
//! module knows only the layers below its own, and modules of one rank are
//! independent of each other. Every reference counts: `use` and `pub use`
//! declarations, inline paths such as `crate::io::write_atomic(…)`, and
//! `super::`/`self::` paths that climb into another top-level module.
//! `src/lib.rs` is the root and may re-export anything.
//!
//! The binary (`src/main.rs`, `src/cli/`, `src/bin/`) sits above every
//! layer and is not checked: it sees the library as `synthmarket::…`. The
//! library in turn may never refer to `crate::cli` or declare `mod cli`.
//!
//! **No file circles.** Over the library's files, "file X refers to an item
//! defined in file Y" is an edge X → Y, and the graph has no cycle, also
//! inside one module. A path is followed through the module tree on disk to
//! the file that defines its item, so importing a re-export from a `mod.rs`
//! leads to the child file that defines the item. Re-exports of a parent
//! (`lib.rs`, `mod.rs`) from its own subtree are not edges, and neither are
//! `mod x;` declarations: a parent that re-exports its child's items while
//! the child uses items defined in the parent is not a circle.
//!
//! # Changing the table
//!
//! Adding a top-level module means giving it a rank: add `("name", rank)` to
//! [`LAYERS`], above everything it uses and below everything that uses it.
//! The test fails while a module on disk is missing from the table, and
//! while the table names a module that no longer exists, so the table cannot
//! go stale. Raising a module's rank to let it import a peer is a design
//! decision: prefer moving the shared piece down a layer.
//!
//! # How the source is read
//!
//! Standard library only, no compiler: comments (doc comments included),
//! string, raw-string, byte-string and character literals are blanked out
//! (lines kept, so findings name `src/path.rs:LINE`), the rest is split into
//! tokens, `use` trees are expanded into one path per leaf, and every path
//! that starts with `crate`, `$crate`, `self`, `super`, or (2018 uniform
//! paths) a child module of the current module is resolved against the
//! module tree on disk. Inline `mod name { … }` blocks, such as
//! `#[cfg(test)] mod tests`, belong to their file. `#[path]` attributes and
//! macro-generated paths are not seen.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// The layers: each top-level module of the library with its rank, lowest
/// first. A module may use only modules of a strictly lower rank. This is the
/// table to edit when adding, removing or renaming a top-level module.
const LAYERS: &[(&str, u32)] = &[
    ("error", 0),
    ("rng", 1),
    ("stats", 1),
    ("market", 2),
    ("pricing", 3),
    ("io", 4),
    ("sim", 5),
    ("facts", 5),
    ("hedge", 5),
    ("forecast", 5),
    ("deep", 6),
    ("plot", 6),
    ("run", 7),
];

/// Entries of `src/` that belong to the binary, not to the library.
const BINARY: &[&str] = &["main.rs", "cli", "bin"];

fn src_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))
}

#[test]
fn layers_point_one_way() {
    let library = Library::load(&src_dir()).expect("reading src/");
    let findings = library.layer_findings(LAYERS);
    assert!(
        findings.is_empty(),
        "{} reference(s) against the layers (rules and table in tests/it/architecture.rs):\n{}",
        findings.len(),
        findings.join("\n")
    );
}

#[test]
fn no_file_circles() {
    let library = Library::load(&src_dir()).expect("reading src/");
    let findings = library.circle_findings();
    assert!(
        findings.is_empty(),
        "{} circle(s) of files (rules in tests/it/architecture.rs):\n{}",
        findings.len(),
        findings.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Blanking out comments and literals

/// `src` with every comment and every string, byte-string, raw-string and
/// character literal replaced by spaces; newlines stay, so lines keep their
/// numbers. Lifetimes and labels (`'a`, `'static`) are kept.
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| c.get(k).copied();
        let end = match c[i] {
            '/' if at(i + 1) == Some('/') => {
                (i..c.len()).find(|&k| c[k] == '\n').unwrap_or(c.len())
            }
            '/' if at(i + 1) == Some('*') => block_comment_end(&c, i),
            '"' => quoted_end(&c, i + 1),
            '\'' => match char_literal_end(&c, i) {
                Some(end) => end,
                None => {
                    out.push('\'');
                    i += 1;
                    continue;
                }
            },
            ch if is_ident_start(ch) || ch.is_ascii_digit() => {
                let j = word_end(&c, i);
                match prefixed_literal_end(&c[i..j], &c, j) {
                    Some(end) if is_ident_start(ch) => end,
                    _ => {
                        out.extend(&c[i..j]);
                        i = j;
                        continue;
                    }
                }
            }
            ch => {
                out.push(ch);
                i += 1;
                continue;
            }
        };
        out.extend(
            c[i..end]
                .iter()
                .map(|&ch| if ch == '\n' { '\n' } else { ' ' }),
        );
        i = end;
    }
    out
}

fn is_ident_start(ch: char) -> bool {
    ch == '_' || ch.is_alphabetic()
}

fn word_end(c: &[char], mut j: usize) -> usize {
    while j < c.len() && (c[j] == '_' || c[j].is_alphanumeric()) {
        j += 1;
    }
    j
}

/// End of a (nested) block comment starting at `i`.
fn block_comment_end(c: &[char], i: usize) -> usize {
    let (mut depth, mut j) = (0usize, i);
    while j + 1 < c.len() {
        if c[j] == '/' && c[j + 1] == '*' {
            depth += 1;
            j += 2;
        } else if c[j] == '*' && c[j + 1] == '/' {
            depth -= 1;
            j += 2;
            if depth == 0 {
                return j;
            }
        } else {
            j += 1;
        }
    }
    c.len()
}

/// End of a string with escapes whose first character is at `j`.
fn quoted_end(c: &[char], mut j: usize) -> usize {
    while j < c.len() {
        match c[j] {
            '\\' => j += 2,
            '"' => return j + 1,
            _ => j += 1,
        }
    }
    c.len()
}

/// End of the character literal starting with the quote at `i`, or `None`
/// if the quote starts a lifetime or a label.
fn char_literal_end(c: &[char], i: usize) -> Option<usize> {
    match (c.get(i + 1), c.get(i + 2)) {
        // '\n', '\'', '\\', '\u{2192}': the closing quote comes after the escape.
        (Some('\\'), _) => (i + 3..c.len()).find(|&k| c[k] == '\'').map(|k| k + 1),
        (Some(&ch), Some('\'')) if ch != '\'' => Some(i + 3),
        _ => None,
    }
}

/// End of a literal opened by the word `word` (`b`, `c`, `r`, `br`, `cr`)
/// followed at `j` by a quote or by raw-string hashes, if there is one.
fn prefixed_literal_end(word: &[char], c: &[char], j: usize) -> Option<usize> {
    let word: String = word.iter().collect();
    match (word.as_str(), c.get(j)) {
        ("b" | "c", Some('"')) => Some(quoted_end(c, j + 1)),
        ("b", Some('\'')) => char_literal_end(c, j),
        ("r" | "br" | "cr", Some('"' | '#')) => {
            let hashes = (j..c.len()).take_while(|&k| c[k] == '#').count();
            if c.get(j + hashes) != Some(&'"') {
                return None; // a raw identifier such as r#type
            }
            let closing = (j + hashes + 1..c.len())
                .find(|&k| c[k] == '"' && (1..=hashes).all(|h| c.get(k + h) == Some(&'#')));
            Some(closing.map_or(c.len(), |k| k + 1 + hashes))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, PartialEq)]
struct Token {
    text: String,
    line: usize,
    ident: bool,
}

/// Tokens of blanked-out source: identifiers (`r#type` as `type`), `::`,
/// lifetimes, numbers and single punctuation characters.
fn tokenize(stripped: &str) -> Vec<Token> {
    let c: Vec<char> = stripped.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < c.len() {
        let ch = c[i];
        let (text, ident, end) = if ch == '\n' {
            line += 1;
            i += 1;
            continue;
        } else if ch.is_whitespace() {
            i += 1;
            continue;
        } else if is_ident_start(ch) {
            let j = word_end(&c, i);
            let raw = j - i == 1
                && ch == 'r'
                && c.get(j) == Some(&'#')
                && c.get(j + 1).is_some_and(|&n| is_ident_start(n));
            if raw {
                let k = word_end(&c, j + 1);
                (c[j + 1..k].iter().collect(), true, k)
            } else {
                (c[i..j].iter().collect(), true, j)
            }
        } else if ch == '\'' && c.get(i + 1).is_some_and(|&n| is_ident_start(n)) {
            let j = word_end(&c, i + 1);
            (c[i..j].iter().collect(), false, j)
        } else if ch.is_ascii_digit() {
            let j = word_end(&c, i);
            (c[i..j].iter().collect(), false, j)
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            ("::".to_string(), false, i + 2)
        } else {
            (ch.to_string(), false, i + 1)
        };
        out.push(Token { text, line, ident });
        i = end;
    }
    out
}

// ---------------------------------------------------------------------------
// Parsing one file

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A leaf of a private `use` (or `pub(self) use`).
    Use,
    /// A leaf of a `pub use`, `pub(crate) use`, `pub(super) use`, `pub(in …) use`.
    ReExport,
    /// A path in code: `crate::io::write_atomic(…)`, `super::HALF_LIVES`.
    Path,
}

/// A path as written in one file.
#[derive(Debug, Clone, PartialEq)]
struct RawRef {
    line: usize,
    /// Segments as written, `crate`/`self`/`super` included, the glob not.
    segments: Vec<String>,
    glob: bool,
    /// The name a `use` leaf binds (its alias or last segment).
    binding: Option<String>,
    kind: Kind,
    /// Inline modules (`mod tests { … }`) around the reference, outermost first.
    inline_mods: Vec<String>,
    /// At file level: not inside any braces.
    top_level: bool,
}

impl RawRef {
    fn written(&self) -> String {
        let mut s = self.segments.join("::");
        if self.glob {
            s.push_str("::*");
        }
        s
    }

    fn verb(&self) -> &'static str {
        match self.kind {
            Kind::Use => "imports",
            Kind::ReExport => "re-exports",
            Kind::Path => "refers to",
        }
    }
}

#[derive(Debug, Default)]
struct Parsed {
    refs: Vec<RawRef>,
    /// Items defined at file level (`fn`, `struct`, `enum`, `trait`, `type`,
    /// `const`, `static`, `mod`, `union`, `macro_rules!`), whatever their
    /// visibility.
    defines: BTreeSet<String>,
    /// Lines of `mod cli` declarations.
    mod_cli: Vec<usize>,
}

const ITEM_KEYWORDS: &[&str] = &[
    "fn", "struct", "enum", "trait", "type", "const", "static", "mod", "union",
];

fn parse(src: &str) -> Parsed {
    let toks = tokenize(&strip(src));
    let text = |k: usize| toks.get(k).map_or("", |t: &Token| t.text.as_str());
    let is_ident = |k: usize| toks.get(k).is_some_and(|t| t.ident);
    let mut parsed = Parsed::default();
    let mut depth = 0usize;
    // Open inline modules: name, brace depth inside them.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut opening_mod: Option<String> = None;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let inline_mods = || {
            inline
                .iter()
                .map(|(name, _)| name.clone())
                .collect::<Vec<_>>()
        };
        let before = |back: usize| if i >= back { text(i - back) } else { "" };
        match t.text.as_str() {
            "{" => {
                depth += 1;
                if let Some(name) = opening_mod.take() {
                    inline.push((name, depth));
                }
            }
            "}" => {
                if inline.last().is_some_and(|&(_, d)| d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            "use" if t.ident && before(1) != "::" => {
                let kind = if is_reexport(&toks, i) {
                    Kind::ReExport
                } else {
                    Kind::Use
                };
                let mut leaves = Vec::new();
                use_tree(&toks, i + 1, &mut Vec::new(), &mut leaves);
                for leaf in leaves {
                    parsed.refs.push(RawRef {
                        line: leaf.line,
                        segments: leaf.segments,
                        glob: leaf.glob,
                        binding: leaf.binding,
                        kind,
                        inline_mods: inline_mods(),
                        top_level: depth == 0,
                    });
                }
                while i < toks.len() && toks[i].text != ";" {
                    i += 1;
                }
            }
            "macro_rules" if depth == 0 && text(i + 1) == "!" && is_ident(i + 2) => {
                parsed.defines.insert(text(i + 2).to_string());
            }
            kw if t.ident && ITEM_KEYWORDS.contains(&kw) && is_ident(i + 1) => {
                let name = text(i + 1).to_string();
                if kw == "mod" {
                    if name == "cli" {
                        parsed.mod_cli.push(t.line);
                    }
                    if text(i + 2) == "{" {
                        opening_mod = Some(name.clone());
                    }
                }
                if depth == 0 {
                    parsed.defines.insert(name);
                }
            }
            // The start of a path: `a::…` not preceded by `::`, and not the
            // `crate` of a visibility `pub(in crate::…)`.
            _ if t.ident
                && text(i + 1) == "::"
                && before(1) != "::"
                && !(before(1) == "in" && before(2) == "(") =>
            {
                let mut segments = vec![t.text.clone()];
                let mut j = i + 1;
                while text(j) == "::" && is_ident(j + 1) {
                    segments.push(text(j + 1).to_string());
                    j += 2;
                }
                parsed.refs.push(RawRef {
                    line: t.line,
                    segments,
                    glob: false,
                    binding: None,
                    kind: Kind::Path,
                    inline_mods: inline_mods(),
                    top_level: depth == 0,
                });
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parsed
}

/// Whether the `use` at `toks[u]` has a visibility wider than the module:
/// `pub`, `pub(crate)`, `pub(super)`, `pub(in …)` but not `pub(self)`.
fn is_reexport(toks: &[Token], u: usize) -> bool {
    let text = |k: usize| toks.get(k).map_or("", |t| t.text.as_str());
    if u == 0 {
        return false;
    }
    if text(u - 1) == "pub" {
        return true;
    }
    if text(u - 1) != ")" {
        return false;
    }
    let Some(open) = (u.saturating_sub(8)..u - 1).rev().find(|&k| text(k) == "(") else {
        return false;
    };
    open > 0 && text(open - 1) == "pub" && !(u - 1 - open == 2 && text(open + 1) == "self")
}

#[derive(Debug)]
struct Leaf {
    segments: Vec<String>,
    glob: bool,
    binding: Option<String>,
    line: usize,
}

/// Expands the use tree starting at `toks[i]` below `prefix` into `leaves`;
/// returns the index after the tree.
fn use_tree(
    toks: &[Token],
    mut i: usize,
    prefix: &mut Vec<String>,
    leaves: &mut Vec<Leaf>,
) -> usize {
    let text = |k: usize| toks.get(k).map_or("", |t| t.text.as_str());
    let outer = prefix.len();
    if text(i) == "::" {
        prefix.push(String::new()); // `::name`: an external crate
        i += 1;
    }
    while let Some(t) = toks.get(i) {
        if t.text == "{" {
            i += 1;
            while i < toks.len() && text(i) != "}" {
                let next = use_tree(toks, i, prefix, leaves);
                if next == i {
                    break; // not a tree: malformed
                }
                i = next;
                if text(i) == "," {
                    i += 1;
                }
            }
            i += 1;
            break;
        } else if t.text == "*" {
            leaves.push(Leaf {
                segments: prefix.clone(),
                glob: true,
                binding: None,
                line: t.line,
            });
            i += 1;
            break;
        } else if t.text == "$" {
            i += 1; // `$crate`
        } else if t.ident {
            prefix.push(t.text.clone());
            i += 1;
            if text(i) == "::" {
                i += 1;
                continue;
            }
            let mut segments = prefix.clone();
            if segments.len() > 1 && t.text == "self" {
                segments.pop(); // `a::{self}` is `a`
            }
            let mut binding = segments.last().cloned();
            if text(i) == "as" {
                binding = Some(text(i + 1).to_string()).filter(|b| b != "_");
                i += 2;
            }
            leaves.push(Leaf {
                segments,
                glob: false,
                binding,
                line: t.line,
            });
            break;
        } else {
            break;
        }
    }
    prefix.truncate(outer);
    i
}

// ---------------------------------------------------------------------------
// The library: its files, module tree and references

struct SourceFile {
    /// `src/…`, with forward slashes.
    rel: String,
    /// Module path from the crate root: `[]` for lib.rs, `["a", "b"]` for
    /// src/a/b.rs or src/a/b/mod.rs.
    module: Vec<String>,
    parsed: Parsed,
}

struct Library {
    files: Vec<SourceFile>,
    /// Module path → index of its file.
    module_files: BTreeMap<Vec<String>, usize>,
    /// Every module path with a file at or below it.
    modules: BTreeSet<Vec<String>>,
}

impl Library {
    /// Reads the library's files under `src` (everything but [`BINARY`]).
    fn load(src: &Path) -> std::io::Result<Library> {
        let mut rels = Vec::new();
        collect_rs(src, &mut Vec::new(), &mut rels)?;
        rels.sort();
        let mut files = Vec::new();
        for rel in rels {
            let mut module = rel.clone();
            let last = module.pop().unwrap_or_default();
            if !(module.is_empty() && last == "lib.rs") && last != "mod.rs" {
                module.push(last.trim_end_matches(".rs").to_string());
            }
            let path = rel.iter().fold(src.to_path_buf(), |p, part| p.join(part));
            files.push(SourceFile {
                rel: format!("src/{}", rel.join("/")),
                module,
                parsed: parse(&fs::read_to_string(&path)?),
            });
        }
        let mut module_files = BTreeMap::new();
        let mut modules = BTreeSet::new();
        for (f, file) in files.iter().enumerate() {
            module_files.insert(file.module.clone(), f);
            for k in 0..=file.module.len() {
                modules.insert(file.module[..k].to_vec());
            }
        }
        Ok(Library {
            files,
            module_files,
            modules,
        })
    }

    /// The absolute module path (from the crate root) of a reference, or
    /// `None` if it leaves the crate (`std::…`, `serde::…`) or is local.
    fn absolute(&self, f: usize, r: &RawRef) -> Option<Vec<String>> {
        let mut here = self.files[f].module.clone();
        here.extend(r.inline_mods.iter().cloned());
        let (first, rest) = r.segments.split_first()?;
        let (mut base, rest) = match first.as_str() {
            "crate" => (Vec::new(), rest),
            "self" => (here, rest),
            "super" => {
                let climbs = r.segments.iter().take_while(|s| *s == "super").count();
                for _ in 0..climbs {
                    here.pop()?;
                }
                (here, &r.segments[climbs..])
            }
            _ => {
                let mut child = here.clone();
                child.push(first.clone());
                if !self.modules.contains(&child) {
                    return None;
                }
                (here, &r.segments[..])
            }
        };
        base.extend(rest.iter().cloned());
        Some(base)
    }

    /// The file that defines what `path` (absolute) names: walks the module
    /// tree, then finds the item in the last module reached.
    fn resolve(&self, path: &[String], hops: usize) -> Option<usize> {
        let mut module: Vec<String> = Vec::new();
        for seg in path {
            module.push(seg.clone());
            if !self.modules.contains(&module) {
                module.pop();
                return self.find_item(&module, seg, hops);
            }
        }
        self.module_files.get(&module).copied()
    }

    /// The file defining item `name` of `module`: the module's file if it
    /// defines it, else where its `use` of that name leads, else the
    /// shallowest file below the module that defines it, else the module's
    /// file.
    fn find_item(&self, module: &[String], name: &str, hops: usize) -> Option<usize> {
        let own = self.module_files.get(module).copied();
        if let Some(f) = own {
            let parsed = &self.files[f].parsed;
            if parsed.defines.contains(name) {
                return Some(f);
            }
            if hops < 8 {
                let target = parsed
                    .refs
                    .iter()
                    .filter(|r| r.kind != Kind::Path && r.top_level && r.inline_mods.is_empty())
                    .filter(|r| r.binding.as_deref() == Some(name))
                    .filter_map(|r| self.absolute(f, r))
                    .find_map(|abs| self.resolve(&abs, hops + 1));
                if target.is_some() {
                    return target;
                }
            }
        }
        let below = self
            .files
            .iter()
            .enumerate()
            .filter(|(_, file)| file.module.len() > module.len() && file.module.starts_with(module))
            .filter(|(_, file)| file.parsed.defines.contains(name))
            .min_by_key(|(_, file)| file.module.len())
            .map(|(g, _)| g);
        below.or(own)
    }

    /// Whether the file's module has submodules (lib.rs, a mod.rs, or a
    /// 2018-style `a.rs` next to `a/`).
    fn is_parent(&self, f: usize) -> bool {
        let module = &self.files[f].module;
        self.files
            .iter()
            .any(|g| g.module.len() > module.len() && g.module.starts_with(module))
    }

    /// `src/x.rs:LINE: imports crate::a::B`, with the absolute path when the
    /// written one is relative.
    fn describe(&self, f: usize, r: &RawRef, abs: &[String]) -> String {
        let written = r.written();
        let mut shown = format!("crate::{}", abs.join("::"));
        if r.glob {
            shown.push_str("::*");
        }
        let shown = if written == shown {
            written
        } else {
            format!("{written} (= {shown})")
        };
        let place = if r.inline_mods.is_empty() {
            String::new()
        } else {
            format!(" (in mod {})", r.inline_mods.join("::"))
        };
        format!(
            "{}:{}: {} {shown}{place}",
            self.files[f].rel,
            r.line,
            r.verb()
        )
    }

    /// Everything against the layers: modules missing from `table` or in it
    /// without existing, references from a lower or equal layer, and any
    /// mention of the binary's `cli`.
    fn layer_findings(&self, table: &[(&str, u32)]) -> Vec<String> {
        let rank = |m: &str| table.iter().find(|(name, _)| *name == m).map(|&(_, r)| r);
        let mut out = Vec::new();
        let on_disk: BTreeSet<&str> = self
            .files
            .iter()
            .filter_map(|f| f.module.first())
            .map(String::as_str)
            .collect();
        for m in &on_disk {
            if rank(m).is_none() {
                let file = format!("src/{m}.rs");
                let place = if self.files.iter().any(|f| f.rel == file) {
                    file
                } else {
                    format!("src/{m}/")
                };
                out.push(format!(
                    "{place}: top-level module `{m}` has no rank: add it to the layer table in tests/it/architecture.rs"
                ));
            }
        }
        for (name, _) in table {
            if !on_disk.contains(name) {
                out.push(format!(
                    "the layer table in tests/it/architecture.rs lists `{name}`, but there is no src/{name}.rs or src/{name}/: remove it from the table"
                ));
            }
        }
        let lib_rs = self.module_files.get(&Vec::new()).copied();
        let mut seen = HashSet::new();
        for (f, file) in self.files.iter().enumerate() {
            for line in &file.parsed.mod_cli {
                out.push(format!(
                    "{}:{line}: declares `mod cli`: the command line belongs to the binary (src/main.rs), not to the library",
                    file.rel
                ));
            }
            for r in &file.parsed.refs {
                let Some(abs) = self.absolute(f, r) else {
                    continue;
                };
                let Some(first) = abs.first() else { continue };
                let finding = if first == "cli" {
                    format!(
                        "{} — the library may not refer to the binary's `crate::cli`",
                        self.describe(f, r, &abs)
                    )
                } else if let Some(a) = file.module.first() {
                    let b = if self.modules.contains(&abs[..1]) {
                        first
                    } else {
                        match self.resolve(&abs, 0) {
                            Some(t) if Some(t) != lib_rs => &self.files[t].module[0],
                            Some(t) if self.files[t].parsed.defines.contains(first) => continue,
                            _ => {
                                out.push(format!(
                                    "{}, but `{first}` is neither a module under src/ nor an item of src/lib.rs",
                                    self.describe(f, r, &abs)
                                ));
                                continue;
                            }
                        }
                    };
                    match (rank(a), rank(b)) {
                        (Some(ra), Some(rb)) if a != b && rb >= ra => format!(
                            "{} — {a} (rank {ra}) may not depend on {b} (rank {rb})",
                            self.describe(f, r, &abs)
                        ),
                        _ => continue,
                    }
                } else {
                    continue; // lib.rs, the root, may re-export anything
                };
                if seen.insert(finding.clone()) {
                    out.push(finding);
                }
            }
        }
        out
    }

    /// Every circle of files, one finding per distinct shortest cycle through
    /// each file of a strongly connected component.
    fn circle_findings(&self) -> Vec<String> {
        let n = self.files.len();
        // edges[from][to] = the first reference making the edge, and how many do.
        let mut edges: Vec<BTreeMap<usize, (String, usize)>> = vec![BTreeMap::new(); n];
        for (f, file) in self.files.iter().enumerate() {
            let parent = self.is_parent(f);
            for r in &file.parsed.refs {
                let Some(abs) = self.absolute(f, r) else {
                    continue;
                };
                let Some(t) = self.resolve(&abs, 0) else {
                    continue;
                };
                let own_reexport = r.kind == Kind::ReExport
                    && parent
                    && self.files[t].module.starts_with(&file.module);
                if t != f && !own_reexport {
                    edges[f]
                        .entry(t)
                        .or_insert_with(|| (self.describe(f, r, &abs), 0))
                        .1 += 1;
                }
            }
        }
        let adjacency: Vec<Vec<usize>> =
            edges.iter().map(|e| e.keys().copied().collect()).collect();
        let mut cycles = BTreeSet::new();
        for component in strongly_connected(&adjacency) {
            if component.len() < 2 {
                continue;
            }
            let inside: BTreeSet<usize> = component.iter().copied().collect();
            for &start in &component {
                if let Some(cycle) = shortest_cycle(&adjacency, &inside, start) {
                    let min = cycle
                        .iter()
                        .enumerate()
                        .min_by_key(|&(_, v)| v)
                        .map_or(0, |(k, _)| k);
                    let mut canonical = cycle[min..].to_vec();
                    canonical.extend_from_slice(&cycle[..min]);
                    cycles.insert((canonical.len(), canonical));
                }
            }
        }
        cycles
            .into_iter()
            .map(|(_, cycle)| {
                let mut chain: Vec<&str> =
                    cycle.iter().map(|&v| self.files[v].rel.as_str()).collect();
                chain.push(&self.files[cycle[0]].rel);
                let mut s = format!("circle of {} files: {}", cycle.len(), chain.join(" → "));
                for (k, &from) in cycle.iter().enumerate() {
                    let to = cycle[(k + 1) % cycle.len()];
                    let (first, count) = &edges[from][&to];
                    s.push_str("\n    ");
                    s.push_str(first);
                    if *count > 1 {
                        let _ = write!(s, " (and {} more)", count - 1);
                    }
                }
                s
            })
            .collect()
    }
}

/// Appends the `.rs` files under `dir` (relative to the src root, as path
/// components) to `out`, skipping the binary's entries at the top.
fn collect_rs(
    dir: &Path,
    rel: &mut Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if rel.is_empty() && BINARY.contains(&name.as_str()) {
            continue;
        }
        rel.push(name);
        if entry.file_type()?.is_dir() {
            collect_rs(&entry.path(), rel, out)?;
        } else if rel.last().is_some_and(|n| n.ends_with(".rs")) {
            out.push(rel.clone());
        }
        rel.pop();
    }
    Ok(())
}

/// Tarjan's strongly connected components.
fn strongly_connected(adjacency: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        adjacency: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        components: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &s.adjacency[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            component.sort_unstable();
            s.components.push(component);
        }
    }
    let n = adjacency.len();
    let mut s = State {
        adjacency,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        components: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.components
}

/// The shortest cycle through `start` inside `inside`, as its files in order
/// (starting with `start`), by breadth-first search.
fn shortest_cycle(
    adjacency: &[Vec<usize>],
    inside: &BTreeSet<usize>,
    start: usize,
) -> Option<Vec<usize>> {
    let mut came_from: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in &adjacency[v] {
            if w == start {
                let mut cycle = vec![v];
                while let Some(&u) = came_from.get(cycle.last()?) {
                    cycle.push(u);
                }
                cycle.reverse();
                return Some(cycle);
            }
            if inside.contains(&w) && !came_from.contains_key(&w) {
                came_from.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Tests of the checker itself, so that it cannot pass by seeing nothing

fn crate_paths(src: &str) -> Vec<String> {
    parse(src)
        .refs
        .iter()
        .filter(|r| r.segments.first().is_some_and(|s| s == "crate"))
        .map(|r| format!("{}:{}", r.line, r.written()))
        .collect()
}

#[test]
fn checker_expands_use_trees() {
    let refs = parse("use crate::{a::{b, c::D}, e::F as G};").refs;
    let got: Vec<(String, Option<&str>, Kind)> = refs
        .iter()
        .map(|r| (r.written(), r.binding.as_deref(), r.kind))
        .collect();
    assert_eq!(
        got,
        [
            ("crate::a::b".to_string(), Some("b"), Kind::Use),
            ("crate::a::c::D".to_string(), Some("D"), Kind::Use),
            ("crate::e::F".to_string(), Some("G"), Kind::Use),
        ]
    );
}

#[test]
fn checker_reads_self_globs_and_visibility() {
    let src = "pub(crate) use crate::x::{self, Y};\n\
               pub use super::*;\n\
               use std::fmt;\n\
               pub(self) use self::z as _;\n\
               pub(in crate::a) use ::ext::{m,\n  n::*};\n";
    let refs = parse(src).refs;
    let got: Vec<(usize, String, Option<&str>, Kind)> = refs
        .iter()
        .map(|r| (r.line, r.written(), r.binding.as_deref(), r.kind))
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        got,
        [
            (1, s("crate::x"), Some("x"), Kind::ReExport),
            (1, s("crate::x::Y"), Some("Y"), Kind::ReExport),
            (2, s("super::*"), None, Kind::ReExport),
            (3, s("std::fmt"), Some("fmt"), Kind::Use),
            (4, s("self::z"), None, Kind::Use),
            (5, s("::ext::m"), Some("m"), Kind::ReExport),
            (6, s("::ext::n::*"), None, Kind::ReExport),
        ]
    );
}

#[test]
fn checker_finds_inline_paths() {
    let src = "fn f() {\n\
               crate::io::write_atomic(p, b)?;\n\
               let k = crate::sim::Knot::<X> { a: crate::rng::path_rng(1, 2) };\n\
               <T as crate::sim::PathGenerator>::new()\n\
               }\n\
               pub(crate) fn g() {}\n\
               pub(in crate::a) fn h() {}\n\
               macro_rules! m { () => { $crate::error::Error::io() } }\n";
    assert_eq!(
        crate_paths(src),
        [
            "2:crate::io::write_atomic",
            "3:crate::sim::Knot",
            "3:crate::rng::path_rng",
            "4:crate::sim::PathGenerator",
            "8:crate::error::Error::io",
        ]
    );
}

#[test]
fn checker_ignores_comments_and_strings() {
    let src = r###"// crate::a::x
/// crate::b::x
//! crate::c::x
/* outer /* nested crate::d::x */ still a comment crate::e::x
*/ let s = "crate::f::x \" crate::g::x \\";
let r = r#"crate::h::x " still"#; let b = br"crate::i::x"; let y = b"crate::j::x";
let q = '"'; let e = '\''; let bq = b'"'; crate::k::x(); let c = c"crate::l::x";
let r2 = r##"a "# crate::m::x"##; let w = r#type; crate::n::x
"###;
    let stripped = strip(src);
    assert_eq!(stripped.lines().count(), src.lines().count());
    assert_eq!(crate_paths(src), ["7:crate::k::x", "8:crate::n::x"]);
    assert!(!stripped.contains('"'), "{stripped}");
}

#[test]
fn checker_tells_lifetimes_from_chars() {
    let src = "fn f<'a>(x: &'a str, c: char) -> &'static str {\n\
               if c == 'a' || c == '\\n' || c == '\\'' || c == '\\u{2192}' || c == '→' { crate::m::n(); }\n\
               'outer: loop { break 'outer; }\n\
               let open = '{'; let b = b'}';\n\
               x }\n\
               mod inner { use super::*; crate::p::q(); }\n\
               crate::r::s()\n";
    assert_eq!(
        crate_paths(src),
        ["2:crate::m::n", "6:crate::p::q", "7:crate::r::s"]
    );
    let refs = parse(src).refs;
    let mods: Vec<(usize, Vec<String>, bool)> = refs
        .iter()
        .map(|r| (r.line, r.inline_mods.clone(), r.top_level))
        .collect();
    let inner = vec!["inner".to_string()];
    assert_eq!(
        mods,
        [
            (2, vec![], false),
            (6, inner.clone(), false),
            (6, inner, false),
            (7, vec![], true),
        ]
    );
}

#[test]
fn checker_sees_file_level_definitions() {
    let src = "pub struct A; pub(crate) fn b() {} enum C {} macro_rules! d { () => {} }\n\
               impl X { fn not_top() {} type Inner = u8; }\n\
               #[cfg(test)] mod e { fn nested() {} }\n\
               pub(super) const F: u8 = 1; static G: u8 = 2; pub trait H {} type I = J; mod cli;\n";
    let parsed = parse(src);
    let want = ["A", "C", "F", "G", "H", "I", "b", "cli", "d", "e"];
    assert_eq!(
        parsed
            .defines
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        want
    );
    assert_eq!(parsed.mod_cli, [4]);
}

/// A fake crate in a temporary directory, removed on drop.
struct FakeCrate(PathBuf);

impl FakeCrate {
    fn new(files: &[(&str, &str)]) -> FakeCrate {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let root = std::env::temp_dir().join(format!(
            "synthmarket-architecture-{}-{nanos}",
            std::process::id()
        ));
        for (path, text) in files {
            let path = root.join(path);
            fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            fs::write(&path, text).expect("write");
        }
        FakeCrate(root)
    }
}

impl Drop for FakeCrate {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn checker_finds_layer_breaks_and_circles_in_a_fake_crate() {
    let fake = FakeCrate::new(&[
        (
            "src/lib.rs",
            "pub mod low;\npub mod high;\npub mod extra;\nmod cli;\npub use low::Base;\n",
        ),
        // The binary is not checked.
        (
            "src/main.rs",
            "mod cli;\nuse crate::cli::run;\nfn main() { synthmarket::high::a::A; }\n",
        ),
        (
            "src/cli/mod.rs",
            "use synthmarket::low::Base;\npub fn run() { crate::cli::run() }\n",
        ),
        (
            "src/low.rs",
            "use crate::high::a::A; // against the layers\n\
             pub struct Base;\n\
             fn f() -> &'static str { \"use crate::high::b::B;\" } // crate::high::b::B\n\
             fn g() { crate::cli::run() }\n",
        ),
        (
            "src/high/mod.rs",
            "mod a;\nmod b;\nmod c;\npub use self::c::C;\npub struct Shared;\n",
        ),
        (
            "src/high/a.rs",
            "use super::b::B;\npub struct A;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        ),
        (
            "src/high/b.rs",
            "pub struct B;\npub fn g() {\n    let _ = crate::high::a::A;\n}\n",
        ),
        (
            "src/high/c.rs",
            "use super::Shared;\nuse crate::Base;\npub struct C;\n",
        ),
        ("src/extra.rs", "pub fn e() {}\n"),
    ]);
    let library = Library::load(&fake.0.join("src")).expect("reading the fake crate");
    let layers = library.layer_findings(&[("low", 0), ("high", 1), ("gone", 2)]);
    let circles = library.circle_findings();
    let file = |rel: &str| library.files.iter().position(|f| f.rel == rel);
    let path = |p: &str| p.split("::").map(String::from).collect::<Vec<_>>();
    assert_eq!(library.resolve(&path("Base"), 0), file("src/low.rs"));
    assert_eq!(library.resolve(&path("high::C"), 0), file("src/high/c.rs"));
    assert_eq!(
        library.resolve(&path("high::Shared"), 0),
        file("src/high/mod.rs")
    );
    assert_eq!(
        library.resolve(&path("high::a::A"), 0),
        file("src/high/a.rs")
    );
    drop(fake);

    assert_eq!(
        layers,
        [
            "src/extra.rs: top-level module `extra` has no rank: add it to the layer table in tests/it/architecture.rs",
            "the layer table in tests/it/architecture.rs lists `gone`, but there is no src/gone.rs or src/gone/: remove it from the table",
            "src/lib.rs:4: declares `mod cli`: the command line belongs to the binary (src/main.rs), not to the library",
            "src/low.rs:1: imports crate::high::a::A — low (rank 0) may not depend on high (rank 1)",
            "src/low.rs:4: refers to crate::cli::run — the library may not refer to the binary's `crate::cli`",
        ]
    );
    assert_eq!(
        circles,
        [
            "circle of 2 files: src/high/a.rs → src/high/b.rs → src/high/a.rs\n    \
          src/high/a.rs:1: imports super::b::B (= crate::high::b::B)\n    \
          src/high/b.rs:3: refers to crate::high::a::A"
        ]
    );
}
