//! Finds every file and directory that an OpenSSH client configuration refers to.
//!
//! Sensitive-path protection (SPEC 3.5) must cover not only `~/.ssh` but every
//! path that `~/.ssh/config` points at: included files (recursively, with
//! globs), identities, certificates, known-hosts files, revoked-key lists,
//! control sockets and agent sockets. [`scan_ssh_config`] reads the
//! configuration the way `ssh_config(5)` describes it and returns those paths
//! as [`SshDependency`] values.
//!
//! The scan is deliberately wider than what `ssh` would use for one
//! connection: `Host` and `Match` blocks are ignored, so the directives of
//! every block are collected. A value that still depends on the host being
//! contacted (`%h`, `%r`, `%C`, ...) cannot be expanded, so its deepest
//! directory free of such tokens is protected instead; likewise an `Include`
//! glob protects its deepest wildcard-free directory, so that a file created
//! there later (which `ssh` would include) is covered too.
//!
//! Bad content never fails the scan: a malformed line becomes a warning and the
//! rest of the file is still read. Paths are made absolute and lexically
//! normalised but not canonicalised; resolving symbolic links is the caller's
//! job.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ffi::OsString;
use std::fmt;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// How deeply `Include` may nest, as in OpenSSH's `READCONF_MAX_DEPTH`.
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// How many configuration files one scan reads at most, so that an `Include`
/// glob over a huge directory cannot make the scan unbounded.
pub const MAX_CONFIG_FILES: usize = 1024;

/// How many bytes of one configuration file [`StdSshFs`] reads at most.
pub const MAX_CONFIG_BYTES: u64 = 8 * 1024 * 1024;

/// Values a scan needs to expand tokens; filled by the caller from the real user.
pub struct SshScanContext<'a> {
    /// The user's home directory: `~`, `%d`, and the base of relative paths.
    pub home: &'a Path,
    /// The user's login name: `%u`.
    pub user: &'a str,
    /// The user's numeric id: `%i` (a value using `%i` is treated like a
    /// per-host one when this is `None`).
    pub uid: Option<u32>,
    /// The full local host name: `%l`; its first component is `%L`.
    pub local_hostname: &'a str,
    /// Looks up an environment variable: `${VAR}`.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

impl fmt::Debug for SshScanContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshScanContext")
            .field("home", &self.home)
            .field("user", &self.user)
            .field("uid", &self.uid)
            .field("local_hostname", &self.local_hostname)
            .finish_non_exhaustive()
    }
}

/// One path that the SSH configuration refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshDependency {
    /// Absolute, lexically normalised path to protect (a file or a directory).
    pub path: PathBuf,
    /// The directive that named it (`IdentityFile`, `Include`, ...), or
    /// `config` for the scanned configuration file itself.
    pub directive: String,
    /// The configuration file the directive is in.
    pub config: PathBuf,
    /// 1-based line number of the directive in `config` (0 for the `config`
    /// entry of the scanned file itself).
    pub line: usize,
    /// True when the value held a per-host token (`%h %r %n %p %C %k %j %T`
    /// or an unknown one) and `path` is its deepest token-free directory.
    pub per_host_token: bool,
    /// True when the value was an `Include` glob pattern and `path` is its
    /// deepest wildcard-free directory: files created there later could be
    /// included by `ssh`, so the whole directory needs protection.
    pub glob_pattern: bool,
}

/// The result of a scan: the dependencies in the order `ssh` meets them, and
/// one warning per line or value that could not be used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshScan {
    /// Every path to protect, without duplicates (the first occurrence wins).
    pub dependencies: Vec<SshDependency>,
    /// Problems met while scanning, each starting with `file:line:`.
    pub warnings: Vec<String>,
}

/// The file-system seam of a scan, so tests and the fuzzer can use an
/// in-memory file system.
pub trait SshFs {
    /// Returns the text of the regular file at `path`, or `None` when it is
    /// missing, not a regular file or unreadable.
    fn read(&self, path: &Path) -> Option<String>;
    /// Expands an absolute glob pattern (`*`, `?`, `[...]`; `*` does not match
    /// `/` nor a leading `.`) into the existing paths it matches, files and
    /// directories alike. A pattern without wildcards yields the path itself
    /// when it exists.
    fn glob(&self, pattern: &str) -> Vec<PathBuf>;
}

/// The real file system, through `std::fs` and the `glob` crate.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdSshFs;

impl SshFs for StdSshFs {
    /// Reads at most [`MAX_CONFIG_BYTES`] of a regular file (never opens a
    /// FIFO or device, which could block or never end).
    fn read(&self, path: &Path) -> Option<String> {
        if !std::fs::metadata(path).ok()?.is_file() {
            return None;
        }
        let file = std::fs::File::open(path).ok()?;
        let mut bytes = Vec::new();
        file.take(MAX_CONFIG_BYTES).read_to_end(&mut bytes).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn glob(&self, pattern: &str) -> Vec<PathBuf> {
        match glob::glob_with(pattern, glob_options()) {
            Ok(paths) => paths.filter_map(Result::ok).collect(),
            // Like glob(3), an invalid pattern only matches itself.
            Err(_) => {
                let path = PathBuf::from(pattern);
                if path.symlink_metadata().is_ok() {
                    vec![path]
                } else {
                    Vec::new()
                }
            }
        }
    }
}

/// An in-memory file system for tests and fuzzing: files with their text, and
/// directories (every ancestor of a file is one).
#[derive(Debug, Clone, Default)]
pub struct MemorySshFs {
    files: BTreeMap<PathBuf, String>,
    dirs: BTreeSet<PathBuf>,
}

impl MemorySshFs {
    /// An empty file system.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file and records its ancestors as directories.
    pub fn add_file(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) {
        let path = path.into();
        if let Some(parent) = path.parent() {
            self.add_dir(parent);
        }
        self.files.insert(path, text.into());
    }

    /// Adds a directory and its ancestors.
    pub fn add_dir(&mut self, path: impl Into<PathBuf>) {
        let path = path.into();
        for ancestor in path.ancestors() {
            if !ancestor.as_os_str().is_empty() {
                self.dirs.insert(ancestor.to_path_buf());
            }
        }
    }
}

impl SshFs for MemorySshFs {
    fn read(&self, path: &Path) -> Option<String> {
        self.files.get(path).cloned()
    }

    fn glob(&self, pattern: &str) -> Vec<PathBuf> {
        let entries = self.files.keys().chain(self.dirs.iter());
        let mut matches: Vec<PathBuf> = match glob::Pattern::new(pattern) {
            Ok(compiled) => entries
                .filter(|path| compiled.matches_path_with(path, glob_options()))
                .cloned()
                .collect(),
            Err(_) => entries
                .filter(|path| path.as_os_str() == pattern)
                .cloned()
                .collect(),
        };
        matches.sort();
        matches.dedup();
        matches
    }
}

/// glob(3) semantics as `ssh` uses them: `*` stops at `/` and at a leading `.`.
fn glob_options() -> glob::MatchOptions {
    glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    }
}

/// Scans the config file at `config` (normally `~/.ssh/config`) recursively.
///
/// Never panics and never fails on bad content: malformed lines become
/// warnings. A missing file yields an empty scan.
///
/// # Security
///
/// The result covers every path any `Host`/`Match` block could use, but a
/// value depending on the host (`%h`, `%C`, ...) or an `Include` glob can only
/// be covered through a directory. Paths are lexical: the caller must
/// canonicalise them (symbolic links) before enforcing anything.
pub fn scan_ssh_config(config: &Path, ctx: &SshScanContext) -> SshScan {
    scan_ssh_config_with(config, ctx, &StdSshFs)
}

/// Same as [`scan_ssh_config`], reading files through `fs`.
pub fn scan_ssh_config_with(config: &Path, ctx: &SshScanContext, fs: &dyn SshFs) -> SshScan {
    let config = normalize_lexically(config);
    let Some(text) = fs.read(&config) else {
        return SshScan::default();
    };
    let mut scanner = Scanner {
        ctx,
        fs,
        home: normalize_lexically(ctx.home),
        scan: SshScan::default(),
        seen: HashSet::new(),
        visited: HashSet::new(),
        files_read: 1,
    };
    scanner.push(SshDependency {
        path: config.clone(),
        directive: "config".to_owned(),
        config: config.clone(),
        line: 0,
        per_host_token: false,
        glob_pattern: false,
    });
    scanner.visited.insert(config.clone());
    scanner.scan_text(&config, &text, 0);
    scanner.scan
}

/// The directives whose values are paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Directive {
    Include,
    IdentityFile,
    CertificateFile,
    UserKnownHostsFile,
    GlobalKnownHostsFile,
    RevokedHostKeys,
    ControlPath,
    IdentityAgent,
}

impl Directive {
    const ALL: [Directive; 8] = [
        Self::Include,
        Self::IdentityFile,
        Self::CertificateFile,
        Self::UserKnownHostsFile,
        Self::GlobalKnownHostsFile,
        Self::RevokedHostKeys,
        Self::ControlPath,
        Self::IdentityAgent,
    ];

    /// The directive named by `keyword` (case-insensitive), if it is one of ours.
    fn from_keyword(keyword: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(keyword))
    }

    /// The directive's name as `ssh_config(5)` spells it.
    fn name(self) -> &'static str {
        match self {
            Self::Include => "Include",
            Self::IdentityFile => "IdentityFile",
            Self::CertificateFile => "CertificateFile",
            Self::UserKnownHostsFile => "UserKnownHostsFile",
            Self::GlobalKnownHostsFile => "GlobalKnownHostsFile",
            Self::RevokedHostKeys => "RevokedHostKeys",
            Self::ControlPath => "ControlPath",
            Self::IdentityAgent => "IdentityAgent",
        }
    }

    /// Whether `ssh` accepts several values on one line.
    fn takes_many(self) -> bool {
        matches!(
            self,
            Self::Include | Self::UserKnownHostsFile | Self::GlobalKnownHostsFile
        )
    }
}

/// Where a directive sits, for dependencies and warnings.
#[derive(Clone, Copy)]
struct Site<'p> {
    file: &'p Path,
    line: usize,
    directive: Directive,
}

/// The state of one scan.
struct Scanner<'a, 'c> {
    ctx: &'a SshScanContext<'c>,
    fs: &'a dyn SshFs,
    home: PathBuf,
    scan: SshScan,
    /// Paths already in `scan.dependencies`.
    seen: HashSet<PathBuf>,
    /// Configuration files already scanned or being scanned.
    visited: HashSet<PathBuf>,
    files_read: usize,
}

impl Scanner<'_, '_> {
    /// Records a warning about the line of `site`.
    fn warn(&mut self, site: Site, message: impl fmt::Display) {
        let (file, line) = (site.file.display(), site.line);
        self.scan.warnings.push(format!("{file}:{line}: {message}"));
    }

    /// Adds a dependency unless its path is already there.
    fn push(&mut self, dependency: SshDependency) {
        if self.seen.insert(dependency.path.clone()) {
            self.scan.dependencies.push(dependency);
        }
    }

    /// Adds a dependency found at `site`.
    fn push_at(&mut self, site: Site, path: PathBuf, per_host_token: bool, glob_pattern: bool) {
        self.push(SshDependency {
            path,
            directive: site.directive.name().to_owned(),
            config: site.file.to_path_buf(),
            line: site.line,
            per_host_token,
            glob_pattern,
        });
    }

    /// Scans every line of one configuration file at include depth `depth`.
    fn scan_text(&mut self, file: &Path, text: &str, depth: usize) {
        for (index, line) in text.lines().enumerate() {
            self.scan_line(file, index + 1, line, depth);
        }
    }

    /// Scans one line: ignores it unless its keyword is one of ours.
    fn scan_line(&mut self, file: &Path, line: usize, text: &str, depth: usize) {
        let Some((keyword, rest)) = split_keyword(text) else {
            return;
        };
        let Some(directive) = Directive::from_keyword(keyword) else {
            return;
        };
        let site = Site {
            file,
            line,
            directive,
        };
        let name = directive.name();
        let Some(values) = split_arguments(rest) else {
            self.warn(site, format_args!("invalid quotes in {name}"));
            return;
        };
        if values.is_empty() {
            self.warn(site, format_args!("no argument after {name}"));
            return;
        }
        if values.len() > 1 && !directive.takes_many() {
            let count = values.len();
            let message = format!("{name} takes one value but has {count}; all are protected");
            self.warn(site, message);
        }
        for value in &values {
            self.scan_value(site, value, depth);
        }
    }

    /// Turns one value of a directive into dependencies.
    fn scan_value(&mut self, site: Site, value: &str, depth: usize) {
        let name = site.directive.name();
        if value.is_empty() {
            self.warn(site, format_args!("empty {name} value"));
            return;
        }
        if site.directive != Directive::Include && is_disabled(site.directive, value) {
            return;
        }
        let expanded = match self.expand(site.directive, value) {
            Ok(expanded) => expanded,
            Err(reason) => {
                self.warn(
                    site,
                    format_args!("skipping {name} value \"{value}\": {reason}"),
                );
                return;
            }
        };
        let path = ResolvedValue::new(&expanded, &self.default_base(site.directive));
        if site.directive == Directive::Include {
            self.include(site, value, &path, depth);
        } else {
            self.protect(site, value, &path, false);
        }
    }

    /// Expands a value, including IdentityAgent's `$VAR` form.
    fn expand(&self, directive: Directive, value: &str) -> Result<Expanded, String> {
        if directive == Directive::IdentityAgent {
            if let Some(name) = value.strip_prefix('$').filter(|n| !n.starts_with('{')) {
                return match (self.ctx.env)(name) {
                    Some(socket) => Ok(Expanded::text(socket)),
                    None => Err(format!("environment variable {name} is not set")),
                };
            }
        }
        expand_value(value, self.ctx)
    }

    /// The directory relative values are resolved against.
    fn default_base(&self, directive: Directive) -> PathBuf {
        match directive {
            Directive::Include => self.home.join(".ssh"),
            _ => self.home.clone(),
        }
    }

    /// Adds the dependency for a resolved value: the path itself, or its
    /// deepest certain directory when the value depends on the host (or, for
    /// `Include`, is a glob).
    fn protect(&mut self, site: Site, value: &str, path: &ResolvedValue, glob: bool) {
        let (dependency, per_host, wild) = match path.first_uncertain(glob) {
            None => (path.exact(), false, false),
            Some(index) => (
                path.prefix(index),
                path.has_token(),
                glob && path.has_wildcard(),
            ),
        };
        if self.home.starts_with(&dependency) {
            let (name, dir) = (site.directive.name(), dependency.display());
            let message = format!(
                "{name} value \"{value}\" is protected through {dir}, \
                 which is or contains the home directory"
            );
            self.warn(site, message);
        }
        self.push_at(site, dependency, per_host, wild);
    }

    /// Handles one `Include` pattern: protects it, then scans what it matches.
    fn include(&mut self, site: Site, value: &str, path: &ResolvedValue, depth: usize) {
        self.protect(site, value, path, true);
        let mut matches = self.fs.glob(&path.glob_pattern());
        matches.sort();
        for file in matches {
            let file = normalize_lexically(&file);
            self.push_at(site, file.clone(), false, false);
            self.include_file(site, &file, depth + 1);
        }
    }

    /// Scans one included file unless it was already scanned or a limit is hit.
    fn include_file(&mut self, site: Site, file: &Path, depth: usize) {
        if self.visited.contains(file) {
            return;
        }
        let shown = file.display();
        if depth > MAX_INCLUDE_DEPTH {
            let message =
                format!("include depth limit of {MAX_INCLUDE_DEPTH} reached; {shown} not scanned");
            self.warn(site, message);
            return;
        }
        if self.files_read >= MAX_CONFIG_FILES {
            let message =
                format!("limit of {MAX_CONFIG_FILES} config files reached; {shown} not scanned");
            self.warn(site, message);
            return;
        }
        self.visited.insert(file.to_path_buf());
        self.files_read += 1;
        match self.fs.read(file) {
            Some(text) => self.scan_text(file, &text, depth),
            None => self.warn(
                site,
                format_args!("cannot read included {shown} (not a readable file)"),
            ),
        }
    }
}

/// Whether a value switches the directive off instead of naming a path.
fn is_disabled(directive: Directive, value: &str) -> bool {
    value == "none" || (directive == Directive::IdentityAgent && value == "SSH_AUTH_SOCK")
}

// ---------------------------------------------------------------------------
// Line splitting, after OpenSSH's `strdelim` and `argv_split`.

/// Whitespace that separates a keyword from its arguments.
const WHITESPACE: [char; 4] = [' ', '\t', '\r', '\n'];

/// Splits a line into its keyword and the rest, or `None` for a blank line or
/// a comment. The keyword ends at whitespace or `=`; one `=` (with whitespace
/// around it) may separate it from the arguments.
fn split_keyword(line: &str) -> Option<(&str, &str)> {
    let line = line
        .trim_end_matches([' ', '\t', '\r', '\n', '\x0c'])
        .trim_start_matches(WHITESPACE);
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find(|c| WHITESPACE.contains(&c) || c == '=')
        .unwrap_or(line.len());
    let (keyword, rest) = line.split_at(end);
    let rest = rest.trim_start_matches(WHITESPACE);
    let rest = rest.strip_prefix('=').unwrap_or(rest);
    Some((keyword, rest.trim_start_matches(WHITESPACE)))
}

/// Splits arguments like OpenSSH's `argv_split`: tokens separated by spaces or
/// tabs, `"..."` and `'...'` quoting (also inside a token), backslash escapes
/// of quotes, backslash and space, and a `#` at the start of a token ending
/// the line. Returns `None` when a quote is not closed.
fn split_arguments(text: &str) -> Option<Vec<String>> {
    let mut args = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        match chars.peek() {
            None | Some('#') => return Some(args),
            Some(_) => {}
        }
        let mut arg = String::new();
        let mut quote = None;
        while let Some(c) = chars.next() {
            match (c, quote) {
                ('\\', _) => {
                    let escapable =
                        |n: &char| matches!(n, '\'' | '"' | '\\') || (quote.is_none() && *n == ' ');
                    match chars.next_if(escapable) {
                        Some(escaped) => arg.push(escaped),
                        None => arg.push('\\'),
                    }
                }
                (' ' | '\t', None) => break,
                ('"' | '\'', None) => quote = Some(c),
                (_, Some(q)) if c == q => quote = None,
                _ => arg.push(c),
            }
        }
        if quote.is_some() {
            return None;
        }
        args.push(arg);
    }
}

// ---------------------------------------------------------------------------
// Expansion of `~`, `${VAR}` and `%` tokens.

/// One piece of an expanded value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Text known now.
    Text(String),
    /// A `%` token that depends on the connection (or is unknown).
    Token,
}

/// A value after expansion: an optional base directory (`~` expands to the
/// home directory) followed by the rest of the value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expanded {
    /// The directory a leading `~` stood for.
    base: Option<PathBuf>,
    pieces: Vec<Piece>,
}

impl Expanded {
    /// A value with no tokens in it.
    fn text(text: String) -> Self {
        Self {
            base: None,
            pieces: vec![Piece::Text(text)],
        }
    }
}

/// Expands `~` (first), then `${VAR}`, then `%` tokens, in the order `ssh` does.
fn expand_value(value: &str, ctx: &SshScanContext) -> Result<Expanded, String> {
    let (base, rest) = expand_tilde(value, ctx)?;
    let rest = expand_env(rest, ctx)?;
    Ok(Expanded {
        base,
        pieces: expand_percent(&rest, ctx),
    })
}

/// Splits off a leading `~`, `~/` or `~user/` (only the scanning user's own
/// name is known). Returns the base it stands for and the rest of the value.
fn expand_tilde<'v>(
    value: &'v str,
    ctx: &SshScanContext,
) -> Result<(Option<PathBuf>, &'v str), String> {
    let Some(after) = value.strip_prefix('~') else {
        return Ok((None, value));
    };
    let (name, rest) = after.split_at(after.find('/').unwrap_or(after.len()));
    if name.is_empty() || name == ctx.user {
        let rest = rest.trim_start_matches('/');
        return Ok((Some(ctx.home.to_path_buf()), rest));
    }
    Err(format!(
        "cannot expand ~{name}: only the home directory of the current user is known"
    ))
}

/// Replaces every `${VAR}` from the environment. An unset variable, an empty
/// name or a missing `}` is an error, as in `ssh`.
fn expand_env(value: &str, ctx: &SshScanContext) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("unterminated ${ in value".to_owned());
        };
        let name = &after[..end];
        if name.is_empty() {
            return Err("empty environment variable name in ${}".to_owned());
        }
        match (ctx.env)(name) {
            Some(text) => out.push_str(&text),
            None => return Err(format!("environment variable {name} is not set")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Expands the `%` tokens known without a connection (`%% %d %u %i %l %L`);
/// every other token (and a lone `%` at the end) becomes [`Piece::Token`].
fn expand_percent(value: &str, ctx: &SshScanContext) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            text.push(c);
            continue;
        }
        match chars.next().and_then(|token| known_token(token, ctx)) {
            Some(expansion) => text.push_str(&expansion),
            None => {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
                pieces.push(Piece::Token);
            }
        }
    }
    pieces.push(Piece::Text(text));
    pieces
}

/// The expansion of `%token` when it does not depend on the connection.
fn known_token(token: char, ctx: &SshScanContext) -> Option<String> {
    match token {
        '%' => Some("%".to_owned()),
        'd' => Some(ctx.home.to_string_lossy().into_owned()),
        'u' => Some(ctx.user.to_owned()),
        'i' => ctx.uid.map(|uid| uid.to_string()),
        'l' => Some(ctx.local_hostname.to_owned()),
        'L' => Some(
            ctx.local_hostname
                .split('.')
                .next()
                .unwrap_or_default()
                .to_owned(),
        ),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Paths.

/// One path component of a resolved value.
#[derive(Debug, Clone, Default)]
struct Part {
    /// The component, with every token written as `*`.
    name: OsString,
    /// The component as a glob pattern (literal components escaped).
    pattern: String,
    /// It holds a token, so its real name is not known.
    token: bool,
    /// It holds a glob wildcard (`*`, `?` or `[`).
    wildcard: bool,
}

/// An expanded value as a lexically normalised list of components (absolute
/// unless the home directory itself is relative).
#[derive(Debug, Clone)]
struct ResolvedValue {
    /// The root (`/`, or a prefix on Windows), empty if the base was relative.
    root: PathBuf,
    parts: Vec<Part>,
}

impl ResolvedValue {
    /// Resolves `expanded` against `default_base` when it is relative, and
    /// normalises `.` and `..` lexically.
    fn new(expanded: &Expanded, default_base: &Path) -> Self {
        let absolute =
            matches!(expanded.pieces.first(), Some(Piece::Text(t)) if t.starts_with('/'));
        let mut resolved = Self {
            root: PathBuf::new(),
            parts: Vec::new(),
        };
        if absolute && expanded.base.is_none() {
            resolved.root.push("/");
        } else {
            resolved.push_base(expanded.base.as_deref().unwrap_or(default_base));
        }
        for part in split_pieces(&expanded.pieces) {
            resolved.push_part(part);
        }
        resolved
    }

    /// Pushes the components of a real directory.
    fn push_base(&mut self, base: &Path) {
        for component in base.components() {
            match component {
                Component::Prefix(_) | Component::RootDir => {
                    self.root.push(component.as_os_str());
                }
                Component::CurDir => {}
                Component::ParentDir | Component::Normal(_) => {
                    let name = component.as_os_str().to_os_string();
                    let pattern = glob::Pattern::escape(&name.to_string_lossy());
                    self.push_part(Part {
                        name,
                        pattern,
                        token: false,
                        wildcard: false,
                    });
                }
            }
        }
    }

    /// Pushes one component, applying `.` and `..` lexically (`..` at the
    /// root stays at the root).
    fn push_part(&mut self, part: Part) {
        if part.name == "." {
            return;
        }
        if part.name == ".." {
            let relative_climb = self.root.as_os_str().is_empty()
                && self.parts.last().is_none_or(|last| last.name == "..");
            if relative_climb {
                self.parts.push(part);
            } else {
                self.parts.pop();
            }
            return;
        }
        self.parts.push(part);
    }

    /// The index of the first component that is not known exactly: one with
    /// a token, or (when `glob`) one with a wildcard.
    fn first_uncertain(&self, glob: bool) -> Option<usize> {
        self.parts
            .iter()
            .position(|part| part.token || (glob && part.wildcard))
    }

    /// Whether any component holds a token.
    fn has_token(&self) -> bool {
        self.parts.iter().any(|part| part.token)
    }

    /// Whether any component holds a wildcard.
    fn has_wildcard(&self) -> bool {
        self.parts.iter().any(|part| part.wildcard)
    }

    /// The path made of the first `count` components.
    fn prefix(&self, count: usize) -> PathBuf {
        let mut path = self.root.clone();
        path.extend(self.parts.iter().take(count).map(|part| &part.name));
        path
    }

    /// The whole path (meaningful when no component is uncertain).
    fn exact(&self) -> PathBuf {
        self.prefix(self.parts.len())
    }

    /// The value as a glob pattern for [`SshFs::glob`]: tokens become `*`,
    /// and runs of `*` collapse to one (glob(3) has no recursive `**`).
    fn glob_pattern(&self) -> String {
        let mut pattern = self.root.to_string_lossy().into_owned();
        for (index, part) in self.parts.iter().enumerate() {
            if index > 0 && !pattern.ends_with('/') {
                pattern.push('/');
            }
            pattern.push_str(&part.pattern);
        }
        collapse_stars(&pattern)
    }
}

/// Splits expanded pieces into path components.
fn split_pieces(pieces: &[Piece]) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut current = Part::default();
    for piece in pieces {
        match piece {
            Piece::Token => {
                current.name.push("*");
                current.pattern.push('*');
                current.token = true;
            }
            Piece::Text(text) => {
                let mut segments = text.split('/');
                if let Some(first) = segments.next() {
                    append_text(&mut current, first);
                }
                for segment in segments {
                    finish_part(&mut parts, &mut current);
                    append_text(&mut current, segment);
                }
            }
        }
    }
    finish_part(&mut parts, &mut current);
    parts
}

/// Appends literal text (which may hold glob wildcards) to a component.
fn append_text(part: &mut Part, text: &str) {
    part.name.push(text);
    part.pattern.push_str(text);
    part.wildcard |= text.contains(['*', '?', '[']);
}

/// Moves a finished component into `parts`, dropping empty ones (`//`).
fn finish_part(parts: &mut Vec<Part>, current: &mut Part) {
    let part = std::mem::take(current);
    if !part.name.is_empty() {
        parts.push(part);
    }
}

/// Replaces runs of `*` with a single `*`.
fn collapse_stars(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if !(c == '*' && out.ends_with('*')) {
            out.push(c);
        }
    }
    out
}

/// Removes `.` components and resolves `..` lexically, without touching the
/// file system (`..` at the root stays at the root; leading `..` of a relative
/// path is kept).
pub fn normalize_lexically(path: &Path) -> PathBuf {
    let mut root = PathBuf::new();
    let mut names: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => root.push(component.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                if names.last().is_some_and(|name| *name != "..") {
                    names.pop();
                } else if root.as_os_str().is_empty() {
                    names.push(component.as_os_str());
                }
            }
            Component::Normal(name) => names.push(name),
        }
    }
    root.extend(names);
    root
}
