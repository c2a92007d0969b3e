//! cargo's configuration, loaded the way cargo loads it, reduced to what
//! decides where registry packages come from.
//!
//! # Loading
//!
//! [`CargoConfig::load`] follows cargo's rules:
//!
//! 1. In the working directory and then every parent directory, the file
//!    `.cargo/config` (legacy name, preferred when present) or else
//!    `.cargo/config.toml`. Deeper files win.
//! 2. `$CARGO_HOME/config` or `$CARGO_HOME/config.toml`, with the lowest
//!    precedence, unless `$CARGO_HOME` is one of the `.cargo` directories
//!    already visited (then it is not read twice).
//! 3. Every file's `include` list (stable since cargo 1.94): included files
//!    are merged first, left to right, then the including file on top.
//! 4. `--config` arguments, in order, each either a path to a file or a TOML
//!    dotted-key expression (`source.crates-io.replace-with = "mirror"`);
//!    they win over everything.
//! 5. Environment variables, consulted per key when it is read: they win
//!    over files but not over `--config`. The key `a.b-c` is read from
//!    `CARGO_A_B_C`; `true`/`false` and integers are typed as cargo types
//!    them. Inside `[source.NAME]` the name part keeps its spelling
//!    (`CARGO_SOURCE_NAME_REPLACE_WITH` only works for names that are already
//!    upper case), as in cargo, which means sources cannot be defined from
//!    the environment. The environment is passed in as a closure, never read
//!    from the process, and only the variables cargo would read are asked
//!    for.
//!
//! Merging: tables merge key by key, a scalar from a higher-precedence place
//! replaces the other, arrays concatenate, and a table meeting a non-table is
//! an error, as in cargo.
//!
//! # Resolving a source
//!
//! [`CargoConfig::resolve`] mirrors cargo's source map: `crates-io` is
//! built in (the sparse index `https://index.crates.io/` unless
//! `registries.crates-io.protocol = "git"`); each `[source.NAME]` defines
//! exactly one location (`registry`, `local-registry`, `directory` or `git`)
//! and may name a `replace-with` source; a name that is not a `[source]`
//! falls back to `[registries.NAME] index`. A lock file source is looked up
//! by kind and canonical URL (trailing slash, `.git` suffix and GitHub letter
//! case do not matter), then `replace-with` is followed to the end. Unknown
//! names, cycles (anywhere in the chain, where cargo only notices cycles back
//! to the start) and replacing a checksummed registry with a git repository
//! are errors. Relative `local-registry` / `directory` paths are relative to
//! the parent of the `.cargo` directory holding the file that set them (for
//! `--config` values and environment variables: the working directory).
//!
//! Differences from cargo, all in rarely used corners: `--config` values
//! with a trailing comment are accepted (cargo refuses them); URLs are
//! checked and compared with a small built-in URL model rather than a full
//! URL parser; relative `file:` index URLs are taken as written.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};

use toml::Value;

use crate::lockfile::{
    canonical_url, check_url, url_has_password, GitReference, SourceId, CRATES_IO_INDEX,
    CRATES_IO_SPARSE_INDEX,
};

/// The name cargo gives crates.io in `[source]` and `[registries]`.
pub const CRATES_IO_NAME: &str = "crates-io";

/// Where a configuration value was defined.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Definition {
    /// Built into cargo (the crates-io source).
    BuiltIn,
    /// A configuration file (discovered, or included from one).
    File(PathBuf),
    /// An environment variable.
    Environment(String),
    /// A `--config` argument; the path when the argument named a file.
    CommandLine(Option<PathBuf>),
}

impl Definition {
    fn rank(&self) -> u8 {
        match self {
            Definition::BuiltIn => 0,
            Definition::File(_) => 1,
            Definition::Environment(_) => 2,
            Definition::CommandLine(_) => 3,
        }
    }

    fn is_higher_priority(&self, other: &Definition) -> bool {
        self.rank() > other.rank()
    }

    /// The directory relative paths in this definition are relative to: the
    /// parent of the directory holding the file, or the working directory.
    fn root<'a>(&'a self, cwd: &'a Path) -> &'a Path {
        match self {
            Definition::File(p) | Definition::CommandLine(Some(p)) => {
                p.parent().and_then(Path::parent).unwrap_or(cwd)
            }
            _ => cwd,
        }
    }

    /// The directory an `include` in this definition is relative to.
    fn include_base<'a>(&'a self, cwd: &'a Path) -> &'a Path {
        match self {
            Definition::File(p) | Definition::CommandLine(Some(p)) => p.parent().unwrap_or(cwd),
            _ => cwd,
        }
    }
}

impl fmt::Display for Definition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Definition::BuiltIn => f.write_str("cargo's built-in defaults"),
            Definition::File(p) => write!(f, "`{}`", p.display()),
            Definition::Environment(k) => write!(f, "environment variable `{k}`"),
            Definition::CommandLine(None) => f.write_str("--config command-line argument"),
            Definition::CommandLine(Some(p)) => {
                write!(f, "--config command-line file `{}`", p.display())
            }
        }
    }
}

/// Which protocol cargo uses for crates.io.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CratesIoProtocol {
    /// `https://index.crates.io/` (the default).
    Sparse,
    /// The git index `https://github.com/rust-lang/crates.io-index`.
    Git,
}

/// Where cargo actually reads a source's packages from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effective {
    /// A sparse HTTP index; `url` without the `sparse+` prefix.
    Sparse {
        /// Index base URL.
        url: String,
    },
    /// A git index.
    Git {
        /// Repository URL.
        url: String,
    },
    /// A local registry (`.crate` files plus an index directory).
    LocalRegistry {
        /// Its directory.
        path: PathBuf,
    },
    /// A directory of unpacked (vendored) crates.
    Directory {
        /// Its directory.
        path: PathBuf,
    },
}

/// The outcome of [`CargoConfig::resolve`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedSource {
    /// The source as the lock file names it.
    pub original: SourceId,
    /// Its name: `crates-io`, the `[source]` or `[registries]` name, or the
    /// index URL when it has none.
    pub original_name: String,
    /// The source name that replaced it, when `replace-with` was followed.
    pub replaced_by: Option<String>,
    /// Where the packages are read from.
    pub effective: Effective,
    /// Where the effective location was configured (`None`: no configuration
    /// involved, the source is used as the lock file names it or is
    /// cargo's built-in crates.io).
    pub defined_in: Option<Definition>,
}

/// A configuration cargo would refuse, or a misuse of this API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A configuration file could not be read.
    #[error("failed to read configuration file `{}`: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// A configuration file is not TOML.
    #[error("could not parse TOML configuration in {definition}: {message}")]
    Toml {
        /// The file or argument.
        definition: Definition,
        /// The parser's message.
        message: String,
    },
    /// A TOML type cargo does not accept in configuration (floats, dates).
    #[error("{definition}: unsupported TOML configuration type `{found}` at `{key}`")]
    UnsupportedType {
        /// Where.
        definition: Definition,
        /// The dotted key.
        key: String,
        /// The TOML type.
        found: &'static str,
    },
    /// Two places define a key with incompatible types.
    #[error("failed to merge configuration key `{key}`: {new_definition} sets {new_type} where {existing_definition} sets {existing_type}")]
    Merge {
        /// The dotted key.
        key: String,
        /// Where the existing value comes from.
        existing_definition: Definition,
        /// Its type.
        existing_type: &'static str,
        /// Where the conflicting value comes from.
        new_definition: Definition,
        /// Its type.
        new_type: &'static str,
    },
    /// A `--config` argument that is neither a file nor `KEY = VALUE`.
    #[error("--config argument `{arg}`: {reason}")]
    InvalidCliArgument {
        /// The argument.
        arg: String,
        /// What is wrong.
        reason: String,
    },
    /// A malformed or refused `include`.
    #[error("{definition}: invalid `include`: {reason}")]
    Include {
        /// The file or argument with the include.
        definition: Definition,
        /// What is wrong.
        reason: String,
    },
    /// An include that includes itself (directly or not).
    #[error("config `include` cycle detected with path `{}`", path.display())]
    IncludeCycle {
        /// The file met twice.
        path: PathBuf,
    },
    /// A key holds the wrong type.
    #[error(
        "invalid configuration for key `{key}` in {definition}: expected {expected}, found {found}"
    )]
    WrongType {
        /// The dotted key.
        key: String,
        /// Where the value comes from.
        definition: Definition,
        /// The expected type.
        expected: &'static str,
        /// The type found.
        found: &'static str,
    },
    /// A malformed URL.
    #[error(
        "configuration key `{key}` in {definition} specifies an invalid URL `{value}`: {reason}"
    )]
    InvalidUrl {
        /// The dotted key.
        key: String,
        /// Where.
        definition: Definition,
        /// The value.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A `[source.NAME]` cargo cannot use.
    #[error("`source.{name}` in {definition}: {reason}")]
    SourceDefinition {
        /// The source name.
        name: String,
        /// Where.
        definition: Definition,
        /// What is wrong.
        reason: String,
    },
    /// Two source names define the same location.
    #[error("source `{name}` (in {definition}) defines `{location}`, but that source is already defined by `{other}`; sources may not be defined twice")]
    DuplicateSource {
        /// The later name.
        name: String,
        /// The earlier name.
        other: String,
        /// The shared location.
        location: String,
        /// Where `name` is defined.
        definition: Definition,
    },
    /// `registries.crates-io.protocol` is neither `sparse` nor `git`.
    #[error("unsupported registry protocol `{value}` for `registries.crates-io.protocol` (defined in {definition}); expected `sparse` or `git`")]
    UnsupportedProtocol {
        /// The value.
        value: String,
        /// Where.
        definition: Definition,
    },
    /// `registry.index` is set, which cargo no longer supports.
    #[error("the `registry.index` config value (set in {definition}) is no longer supported; use `[source]` replacement to alter the default index for crates.io")]
    RegistryIndexUnsupported {
        /// Where.
        definition: Definition,
    },
    /// An invalid registry name.
    #[error("invalid registry name `{name}`: {reason}")]
    InvalidRegistryName {
        /// The name.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// `replace-with` names no `[source]` and no `[registries]` entry.
    #[error("could not find a configured source with the name `{name}` when attempting to lookup `{looking_up}` (configuration in {definition})")]
    UnknownSource {
        /// The unknown name.
        name: String,
        /// The source being resolved.
        looking_up: String,
        /// Where the `replace-with` was set.
        definition: Definition,
    },
    /// A `replace-with` chain that loops.
    #[error("detected a cycle of `replace-with` sources: `{name}` is reached twice when resolving `{looking_up}` (configuration in {definition})")]
    ReplaceCycle {
        /// The name reached twice.
        name: String,
        /// The source being resolved.
        looking_up: String,
        /// Where the closing `replace-with` was set.
        definition: Definition,
    },
    /// A registry replaced by a source without checksums (a git repository).
    #[error("cannot replace `{original}` with `{replacement}` (defined in {definition}): `{original}` supports checksums, but `{replacement}` does not")]
    ReplacementWithoutChecksums {
        /// The replaced source name.
        original: String,
        /// The replacement's name.
        replacement: String,
        /// Where the replacement is defined.
        definition: Definition,
    },
    /// Caller misuse: [`CargoConfig::resolve`] called for a non-registry
    /// source.
    #[error("`{source_id}` is not a registry source; only registry sources are resolved")]
    NotARegistry {
        /// The source.
        source_id: String,
    },
}

/// A configuration value with where it came from (cargo's `ConfigValue`).
#[derive(Clone, Debug)]
enum Cv {
    Str(String, Definition),
    Int(#[allow(dead_code)] i64, Definition),
    Bool(bool, Definition),
    List(Vec<Cv>, Definition),
    Table(BTreeMap<String, Cv>, Definition),
}

impl Cv {
    fn definition(&self) -> &Definition {
        match self {
            Cv::Str(_, d) | Cv::Int(_, d) | Cv::Bool(_, d) | Cv::List(_, d) | Cv::Table(_, d) => d,
        }
    }

    fn desc(&self) -> &'static str {
        match self {
            Cv::Str(..) => "a string",
            Cv::Int(..) => "an integer",
            Cv::Bool(..) => "a boolean",
            Cv::List(..) => "an array",
            Cv::Table(..) => "a table",
        }
    }

    fn from_toml(def: &Definition, value: Value, key: &mut Vec<String>) -> Result<Cv, ConfigError> {
        Ok(match value {
            Value::String(s) => Cv::Str(s, def.clone()),
            Value::Integer(i) => Cv::Int(i, def.clone()),
            Value::Boolean(b) => Cv::Bool(b, def.clone()),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    key.push(format!("[{i}]"));
                    out.push(Cv::from_toml(def, item, key)?);
                    key.pop();
                }
                Cv::List(out, def.clone())
            }
            Value::Table(t) => Cv::Table(Cv::table_from_toml(def, t, key)?, def.clone()),
            other => {
                return Err(ConfigError::UnsupportedType {
                    definition: def.clone(),
                    key: key.join("."),
                    found: other.type_str(),
                })
            }
        })
    }

    fn table_from_toml(
        def: &Definition,
        table: toml::Table,
        key: &mut Vec<String>,
    ) -> Result<BTreeMap<String, Cv>, ConfigError> {
        let mut out = BTreeMap::new();
        for (k, v) in table {
            key.push(k.clone());
            let cv = Cv::from_toml(def, v, key)?;
            key.pop();
            out.insert(k, cv);
        }
        Ok(out)
    }

    /// cargo's merge: `force` makes `from` win (command line, includes);
    /// otherwise the value with the higher-priority definition wins and, at
    /// equal priority, the existing one (deeper files are loaded first).
    fn merge(&mut self, from: Cv, force: bool, key: &mut Vec<String>) -> Result<(), ConfigError> {
        let higher = from.definition().is_higher_priority(self.definition());
        match (self, from) {
            (Cv::List(old, _), Cv::List(mut new, _)) => {
                if force {
                    old.append(&mut new);
                } else {
                    new.append(old);
                    *old = new;
                }
                old.sort_by_key(|v| v.definition().rank());
            }
            (Cv::Table(old, _), Cv::Table(new, _)) => {
                for (k, v) in new {
                    match old.get_mut(&k) {
                        Some(existing) => {
                            key.push(k);
                            existing.merge(v, force, key)?;
                            key.pop();
                        }
                        None => {
                            old.insert(k, v);
                        }
                    }
                }
            }
            (old, new)
                if matches!(old, Cv::List(..) | Cv::Table(..))
                    || matches!(new, Cv::List(..) | Cv::Table(..)) =>
            {
                return Err(ConfigError::Merge {
                    key: key.join("."),
                    existing_definition: old.definition().clone(),
                    existing_type: old.desc(),
                    new_definition: new.definition().clone(),
                    new_type: new.desc(),
                });
            }
            (old, new) => {
                if force || higher {
                    *old = new;
                }
            }
        }
        Ok(())
    }
}

/// Why a file is loaded: discovery and includes of discovered files give
/// [`Definition::File`], `--config FILE` gives [`Definition::CommandLine`].
#[derive(Clone, Copy)]
enum Why {
    Discovery,
    Cli,
}

/// The location a source name stands for.
#[derive(Clone, Debug)]
enum Location {
    Registry(String),
    Sparse(String),
    LocalRegistry(PathBuf),
    Directory(PathBuf),
    Git {
        url: String,
        reference: GitReference,
    },
}

impl Location {
    fn from_registry_url(url: &str) -> Location {
        match url.strip_prefix("sparse+") {
            Some(rest) => Location::Sparse(rest.to_string()),
            None => Location::Registry(url.to_string()),
        }
    }

    fn from_source_id(id: &SourceId) -> Option<Location> {
        match id {
            SourceId::Registry { url } => Some(Location::Registry(url.clone())),
            SourceId::Sparse { url } => Some(Location::Sparse(url.clone())),
            _ => None,
        }
    }

    /// Comparison key, compatible with [`SourceId::canonical_key`].
    fn key(&self) -> (u8, String) {
        match self {
            Location::Registry(url) => SourceId::Registry { url: url.clone() }.canonical_key(),
            Location::Sparse(url) => SourceId::Sparse { url: url.clone() }.canonical_key(),
            Location::Git { url, reference } => (
                2,
                format!("{} {:?}", canonical_url(url), Some(reference.clone())),
            ),
            Location::LocalRegistry(p) => (4, normalize_path(p).display().to_string()),
            Location::Directory(p) => (5, normalize_path(p).display().to_string()),
        }
    }

    fn describe(&self) -> String {
        match self {
            Location::Registry(url) => format!("registry `{url}`"),
            Location::Sparse(url) => format!("registry `sparse+{url}`"),
            Location::LocalRegistry(p) => format!("local registry `{}`", p.display()),
            Location::Directory(p) => format!("directory `{}`", p.display()),
            Location::Git { url, .. } => format!("git repository `{url}`"),
        }
    }
}

#[derive(Clone, Debug)]
struct SourceEntry {
    location: Location,
    /// Where the location was defined (`BuiltIn` for crates-io).
    defined_in: Definition,
    replace_with: Option<(String, Definition)>,
}

/// cargo's configuration, as far as it decides where registry packages come
/// from. Built by [`CargoConfig::load`].
#[derive(Clone, Debug)]
pub struct CargoConfig {
    cwd: PathBuf,
    root: Cv,
    env: BTreeMap<String, String>,
    files: Vec<PathBuf>,
    crates_io_protocol: CratesIoProtocol,
    sources: BTreeMap<String, SourceEntry>,
    /// Location key -> source name (cargo's `id2name`).
    id2name: BTreeMap<(u8, String), String>,
}

/// The `[source.NAME]` fields cargo reads.
const SOURCE_FIELDS: [&str; 8] = [
    "replace-with",
    "directory",
    "registry",
    "local-registry",
    "git",
    "branch",
    "tag",
    "rev",
];

/// The environment variable cargo reads for a dotted key; parts marked
/// `true` keep their spelling (names inside a map such as `[source]`).
fn env_key(parts: &[(&str, bool)]) -> String {
    let mut out = String::from("CARGO");
    for (part, raw) in parts {
        out.push('_');
        if *raw {
            out.push_str(part);
        } else {
            out.push_str(&part.replace('-', "_").to_uppercase());
        }
    }
    out
}

fn registry_index_env(name: &str) -> String {
    env_key(&[("registries", false), (name, false), ("index", false)])
}

fn source_field_env(name: &str, field: &str) -> String {
    env_key(&[("source", false), (name, true), (field, false)])
}

const ENV_NET_OFFLINE: &str = "CARGO_NET_OFFLINE";
const ENV_CRATES_IO_PROTOCOL: &str = "CARGO_REGISTRIES_CRATES_IO_PROTOCOL";
const ENV_REGISTRY_INDEX: &str = "CARGO_REGISTRY_INDEX";

impl CargoConfig {
    /// Loads cargo's configuration for a cargo invocation in `cwd` (which
    /// should be absolute) with the given `$CARGO_HOME`, `--config`
    /// arguments and environment (`env(name)` returns a variable's value).
    ///
    /// Fails where cargo would fail for a build: unreadable or invalid
    /// files, invalid `--config` arguments, merge conflicts, invalid
    /// `[source]` entries, an invalid crates.io protocol, `registry.index`.
    pub fn load(
        cwd: &Path,
        cargo_home: &Path,
        cli_config: &[String],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<CargoConfig, ConfigError> {
        let mut files = Vec::new();
        let mut root = Cv::Table(BTreeMap::new(), Definition::BuiltIn);
        let mut seen_dirs: HashSet<PathBuf> = HashSet::new();
        for dir in cwd.ancestors() {
            let config_root = dir.join(".cargo");
            if let Some(path) = config_file_in(&config_root) {
                let value = load_file(cwd, &path, &mut HashSet::new(), Why::Discovery, &mut files)?;
                root.merge(value, false, &mut Vec::new())?;
            }
            let canonical = std::fs::canonicalize(&config_root).unwrap_or(config_root);
            seen_dirs.insert(canonical);
        }
        let canonical_home =
            std::fs::canonicalize(cargo_home).unwrap_or_else(|_| cargo_home.to_path_buf());
        if !seen_dirs.contains(&canonical_home) && !seen_dirs.contains(cargo_home) {
            if let Some(path) = config_file_in(cargo_home) {
                let value = load_file(cwd, &path, &mut HashSet::new(), Why::Discovery, &mut files)?;
                root.merge(value, false, &mut Vec::new())?;
            }
        }

        let mut cli = Cv::Table(BTreeMap::new(), Definition::CommandLine(None));
        for arg in cli_config {
            let as_path = cwd.join(arg);
            let value = if !arg.is_empty() && as_path.exists() {
                load_file(cwd, &as_path, &mut HashSet::new(), Why::Cli, &mut files)?
            } else {
                let table = parse_cli_dotted(arg)?;
                let def = Definition::CommandLine(None);
                let value = Cv::Table(Cv::table_from_toml(&def, table, &mut Vec::new())?, def);
                load_includes(cwd, value, &mut HashSet::new(), Why::Cli, &mut files)?
            };
            cli.merge(value, true, &mut Vec::new())?;
        }
        root.merge(cli, true, &mut Vec::new())?;

        let mut config = CargoConfig {
            cwd: cwd.to_path_buf(),
            root,
            env: BTreeMap::new(),
            files,
            crates_io_protocol: CratesIoProtocol::Sparse,
            sources: BTreeMap::new(),
            id2name: BTreeMap::new(),
        };
        config.snapshot_env(env)?;
        config.build_source_map()?;
        Ok(config)
    }

    /// Records the environment variables cargo would consult for the keys
    /// this type reads.
    fn snapshot_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let mut wanted: BTreeSet<String> =
            [ENV_NET_OFFLINE, ENV_CRATES_IO_PROTOCOL, ENV_REGISTRY_INDEX]
                .into_iter()
                .map(str::to_string)
                .collect();
        let source_names: Vec<String> = match self.lookup(&["source"])? {
            Some(Cv::Table(t, _)) => t.keys().cloned().collect(),
            _ => Vec::new(),
        };
        for name in &source_names {
            for field in SOURCE_FIELDS {
                wanted.insert(source_field_env(name, field));
            }
        }
        for key in &wanted {
            if let Some(v) = env(key) {
                self.env.insert(key.clone(), v);
            }
        }
        // Registry names: every `[registries]` key and every `replace-with`
        // target (from files or the environment).
        let mut registry_names: BTreeSet<String> = match self.lookup(&["registries"])? {
            Some(Cv::Table(t, _)) => t.keys().cloned().collect(),
            _ => BTreeSet::new(),
        };
        for name in &source_names {
            let key = [
                ("source", false),
                (name.as_str(), true),
                ("replace-with", false),
            ];
            if let Ok(Some((target, _))) = self.get_string(&key) {
                registry_names.insert(target);
            }
        }
        for name in registry_names {
            let key = registry_index_env(&name);
            if let Some(v) = env(&key) {
                self.env.insert(key, v);
            }
        }
        Ok(())
    }

    /// Builds cargo's source map: the built-in crates-io plus every
    /// `[source.NAME]`.
    fn build_source_map(&mut self) -> Result<(), ConfigError> {
        if let Some((_, definition)) = self.get_string(&[("registry", false), ("index", false)])? {
            return Err(ConfigError::RegistryIndexUnsupported { definition });
        }
        let protocol_key = [
            ("registries", false),
            ("crates-io", false),
            ("protocol", false),
        ];
        self.crates_io_protocol = match self.get_string(&protocol_key)? {
            None => CratesIoProtocol::Sparse,
            Some((v, _)) if v == "sparse" => CratesIoProtocol::Sparse,
            Some((v, _)) if v == "git" => CratesIoProtocol::Git,
            Some((value, definition)) => {
                return Err(ConfigError::UnsupportedProtocol { value, definition })
            }
        };

        let crates_io_git = Location::Registry(CRATES_IO_INDEX.to_string());
        let crates_io_default = match self.crates_io_protocol {
            CratesIoProtocol::Sparse => Location::Sparse(CRATES_IO_SPARSE_INDEX.to_string()),
            CratesIoProtocol::Git => crates_io_git.clone(),
        };
        for location in [crates_io_git, crates_io_default.clone()] {
            self.add_source(
                CRATES_IO_NAME,
                SourceEntry {
                    location,
                    defined_in: Definition::BuiltIn,
                    replace_with: None,
                },
            )?;
        }

        let names: Vec<String> = match self.lookup(&["source"])? {
            None => Vec::new(),
            Some(Cv::Table(t, _)) => t.keys().cloned().collect(),
            Some(other) => {
                return Err(ConfigError::WrongType {
                    key: "source".into(),
                    definition: other.definition().clone(),
                    expected: "a table",
                    found: other.desc(),
                })
            }
        };
        // crates-io first: a later name defining the same location is then
        // always refused (cargo's outcome depends on hash-map order).
        let ordered = names
            .iter()
            .filter(|n| *n == CRATES_IO_NAME)
            .chain(names.iter().filter(|n| *n != CRATES_IO_NAME));
        for name in ordered {
            let entry = self.parse_source(name, &crates_io_default)?;
            self.add_source(name, entry)?;
        }
        Ok(())
    }

    fn add_source(&mut self, name: &str, entry: SourceEntry) -> Result<(), ConfigError> {
        let key = entry.location.key();
        if let Some(old) = self.id2name.insert(key, name.to_string()) {
            if name != CRATES_IO_NAME && old != name {
                return Err(ConfigError::DuplicateSource {
                    name: name.to_string(),
                    other: old,
                    location: entry.location.describe(),
                    definition: entry.defined_in.clone(),
                });
            }
        }
        self.sources.insert(name.to_string(), entry);
        Ok(())
    }

    fn parse_source(
        &self,
        name: &str,
        crates_io_default: &Location,
    ) -> Result<SourceEntry, ConfigError> {
        let table_def = match self.lookup(&["source", name])? {
            Some(Cv::Table(_, d)) => d.clone(),
            Some(other) => {
                return Err(ConfigError::WrongType {
                    key: format!("source.{name}"),
                    definition: other.definition().clone(),
                    expected: "a table",
                    found: other.desc(),
                })
            }
            None => Definition::BuiltIn,
        };
        let field = |f: &str| self.get_string(&[("source", false), (name, true), (f, false)]);
        let replace_with = field("replace-with")?;
        let registry = field("registry")?;
        let local_registry = field("local-registry")?;
        let directory = field("directory")?;
        let git = field("git")?;
        let branch = field("branch")?;
        let tag = field("tag")?;
        let rev = field("rev")?;

        let mut found: Vec<(Location, Definition)> = Vec::new();
        if let Some((url, def)) = registry {
            check_config_url(&format!("source.{name}.registry"), &url, &def)?;
            found.push((Location::from_registry_url(&url), def));
        }
        if let Some((path, def)) = local_registry {
            found.push((Location::LocalRegistry(def.root(&self.cwd).join(path)), def));
        }
        if let Some((path, def)) = directory {
            found.push((Location::Directory(def.root(&self.cwd).join(path)), def));
        }
        if let Some((url, def)) = git {
            check_config_url(&format!("source.{name}.git"), &url, &def)?;
            let reference = match (branch, tag, rev) {
                (Some((b, _)), _, _) => GitReference::Branch(b),
                (None, Some((t, _)), _) => GitReference::Tag(t),
                (None, None, Some((r, _))) => GitReference::Rev(r),
                (None, None, None) => GitReference::DefaultBranch,
            };
            found.push((Location::Git { url, reference }, def));
        } else {
            for (key, value) in [("branch", branch), ("tag", tag), ("rev", rev)] {
                if let Some((_, definition)) = value {
                    return Err(ConfigError::SourceDefinition {
                        name: name.to_string(),
                        definition,
                        reason: format!("`{key}` requires a `git` key to be specified"),
                    });
                }
            }
        }
        if name == CRATES_IO_NAME && found.is_empty() {
            found.push((crates_io_default.clone(), Definition::BuiltIn));
        }
        if found.len() > 1 {
            return Err(ConfigError::SourceDefinition {
                name: name.to_string(),
                definition: table_def,
                reason: "more than one source location specified".to_string(),
            });
        }
        let Some((location, defined_in)) = found.pop() else {
            return Err(ConfigError::SourceDefinition {
                name: name.to_string(),
                definition: table_def,
                reason: "no source location specified: need `registry`, `local-registry`, \
                         `directory`, or `git`"
                    .to_string(),
            });
        };
        Ok(SourceEntry {
            location,
            defined_in,
            replace_with,
        })
    }

    /// The configuration files read, in the order they were read (deepest
    /// directory first, then `$CARGO_HOME`, includes before their
    /// including file, then `--config` files).
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Whether `net.offline` (or `CARGO_NET_OFFLINE`) is true. Like cargo,
    /// a malformed value counts as not offline.
    pub fn offline(&self) -> bool {
        match self.get_value(&[("net", false), ("offline", false)]) {
            Ok(Some(Cv::Bool(b, _))) => b,
            _ => false,
        }
    }

    /// The protocol cargo uses for crates.io.
    pub fn crates_io_protocol(&self) -> CratesIoProtocol {
        self.crates_io_protocol
    }

    /// `registries.NAME.index` (file, `--config` or
    /// `CARGO_REGISTRIES_<NAME>_INDEX`), with where it was defined.
    /// `Ok(None)` when not configured. Environment-only registries are seen
    /// only for names that appear in `[registries]` or in a `replace-with`.
    pub fn registry_index(&self, name: &str) -> Result<Option<(String, Definition)>, ConfigError> {
        if let Err(reason) = validate_registry_name(name) {
            return Err(ConfigError::InvalidRegistryName {
                name: name.to_string(),
                reason,
            });
        }
        let Some((url, definition)) =
            self.get_string(&[("registries", false), (name, false), ("index", false)])?
        else {
            return Ok(None);
        };
        let key = format!("registries.{name}.index");
        check_config_url(&key, &url, &definition)?;
        if url_has_password(&url) {
            return Err(ConfigError::InvalidUrl {
                key,
                definition,
                value: url,
                reason: "registry URLs may not contain passwords",
            });
        }
        Ok(Some((url, definition)))
    }

    /// The `[registries]` name whose index is `source` (`crates-io` for
    /// crates.io, under either protocol). Names are tried in sorted order;
    /// entries with invalid values are skipped.
    pub fn registry_name_for(&self, source: &SourceId) -> Option<String> {
        if source.is_crates_io() {
            return Some(CRATES_IO_NAME.to_string());
        }
        let key = source.canonical_key();
        let names: Vec<String> = match self.lookup(&["registries"]) {
            Ok(Some(Cv::Table(t, _))) => t.keys().cloned().collect(),
            _ => Vec::new(),
        };
        names.into_iter().find(|name| {
            matches!(
                self.registry_index(name),
                Ok(Some((url, _))) if Location::from_registry_url(&url).key() == key
            )
        })
    }

    /// Resolves a registry source from a lock file to where cargo reads it
    /// from, following `[source]` replacement; see the module documentation.
    pub fn resolve(&self, source: &SourceId) -> Result<ResolvedSource, ConfigError> {
        let Some(own_location) = Location::from_source_id(source) else {
            return Err(ConfigError::NotARegistry {
                source_id: source.to_string(),
            });
        };
        let source_key = source.canonical_key();
        let Some(original_name) = self.id2name.get(&source_key) else {
            return Ok(ResolvedSource {
                original: source.clone(),
                original_name: self
                    .registry_name_for(source)
                    .unwrap_or_else(|| match source {
                        SourceId::Sparse { url } => format!("sparse+{url}"),
                        other => other.url().to_string(),
                    }),
                replaced_by: None,
                effective: effective(&own_location),
                defined_in: None,
            });
        };

        let mut name = original_name.clone();
        let mut visited: BTreeSet<String> = BTreeSet::from([name.clone()]);
        let mut hops = 0usize;
        let mut last_definition = Definition::BuiltIn;
        let (location, defined_in) = loop {
            let Some(entry) = self.sources.get(&name) else {
                // Not a `[source]`: a `[registries]` name.
                match self.registry_index(&name) {
                    Ok(Some((url, def))) => break (Location::from_registry_url(&url), Some(def)),
                    // An invalid index URL is reported as such; a name that
                    // cannot be a registry is simply not found (as in cargo).
                    Err(e) if !matches!(e, ConfigError::InvalidRegistryName { .. }) => {
                        return Err(e)
                    }
                    Ok(None) | Err(_) => {
                        return Err(ConfigError::UnknownSource {
                            name,
                            looking_up: original_name.clone(),
                            definition: last_definition,
                        })
                    }
                }
            };
            match &entry.replace_with {
                Some((next, def)) => {
                    last_definition = def.clone();
                    hops += 1;
                    if !visited.insert(next.clone()) {
                        return Err(ConfigError::ReplaceCycle {
                            name: next.clone(),
                            looking_up: original_name.clone(),
                            definition: def.clone(),
                        });
                    }
                    name = next.clone();
                }
                None if hops == 0 && entry.location.key() == source_key => {
                    let def = match &entry.defined_in {
                        Definition::BuiltIn => None,
                        d => Some(d.clone()),
                    };
                    break (own_location.clone(), def);
                }
                None => {
                    let def = match &entry.defined_in {
                        Definition::BuiltIn => None,
                        d => Some(d.clone()),
                    };
                    break (entry.location.clone(), def);
                }
            }
        };
        if let Location::Git { .. } = location {
            return Err(ConfigError::ReplacementWithoutChecksums {
                original: original_name.clone(),
                replacement: name,
                definition: defined_in.unwrap_or(last_definition),
            });
        }
        Ok(ResolvedSource {
            original: source.clone(),
            original_name: original_name.clone(),
            replaced_by: (hops > 0).then_some(name),
            effective: effective(&location),
            defined_in,
        })
    }

    /// The merged file / `--config` value at `parts`, without environment.
    fn lookup(&self, parts: &[&str]) -> Result<Option<&Cv>, ConfigError> {
        let mut current = &self.root;
        for (i, part) in parts.iter().enumerate() {
            match current {
                Cv::Table(t, _) => match t.get(*part) {
                    Some(v) => current = v,
                    None => return Ok(None),
                },
                other => {
                    return Err(ConfigError::WrongType {
                        key: parts[..i].join("."),
                        definition: other.definition().clone(),
                        expected: "a table",
                        found: other.desc(),
                    })
                }
            }
        }
        Ok(Some(current))
    }

    /// cargo's `get_cv_with_env`: the environment wins over files, not over
    /// `--config`.
    fn get_value(&self, parts: &[(&str, bool)]) -> Result<Option<Cv>, ConfigError> {
        let names: Vec<&str> = parts.iter().map(|(p, _)| *p).collect();
        let file_value = self.lookup(&names)?.cloned();
        let key = env_key(parts);
        let Some(raw) = self.env.get(&key) else {
            return Ok(file_value);
        };
        let def = Definition::Environment(key);
        if let Some(v) = &file_value {
            if !def.is_higher_priority(v.definition()) {
                return Ok(file_value);
            }
        }
        Ok(Some(match raw.as_str() {
            "true" => Cv::Bool(true, def),
            "false" => Cv::Bool(false, def),
            s => match s.parse::<i64>() {
                Ok(i) => Cv::Int(i, def),
                Err(_) => Cv::Str(s.to_string(), def),
            },
        }))
    }

    fn get_string(
        &self,
        parts: &[(&str, bool)],
    ) -> Result<Option<(String, Definition)>, ConfigError> {
        match self.get_value(parts)? {
            None => Ok(None),
            Some(Cv::Str(s, d)) => Ok(Some((s, d))),
            Some(other) => Err(ConfigError::WrongType {
                key: parts.iter().map(|(p, _)| *p).collect::<Vec<_>>().join("."),
                definition: other.definition().clone(),
                expected: "a string",
                found: other.desc(),
            }),
        }
    }
}

fn effective(location: &Location) -> Effective {
    match location {
        Location::Registry(url) => Effective::Git { url: url.clone() },
        Location::Sparse(url) => Effective::Sparse { url: url.clone() },
        Location::LocalRegistry(p) => Effective::LocalRegistry { path: p.clone() },
        Location::Directory(p) => Effective::Directory { path: p.clone() },
        // Refused before this is reached; keep a sensible mapping anyway.
        Location::Git { url, .. } => Effective::Git { url: url.clone() },
    }
}

fn check_config_url(key: &str, url: &str, definition: &Definition) -> Result<(), ConfigError> {
    let bare = url.strip_prefix("sparse+").unwrap_or(url);
    check_url(bare).map_err(|reason| ConfigError::InvalidUrl {
        key: key.to_string(),
        definition: definition.clone(),
        value: url.to_string(),
        reason,
    })
}

/// cargo's registry-name rule: a letter or `_`, then letters, digits, `_`
/// or `-`.
fn validate_registry_name(name: &str) -> Result<(), &'static str> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Err("the name is empty"),
        Some(c) if c.is_ascii_digit() => return Err("the name cannot start with a digit"),
        Some(c) if !(c.is_alphabetic() || c == '_') => {
            return Err("the first character must be a letter or `_`")
        }
        Some(_) => {}
    }
    if chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
        Ok(())
    } else {
        Err("only letters, digits, `_` and `-` are allowed")
    }
}

/// `DIR/config` if it exists (the legacy name wins), else
/// `DIR/config.toml` if it exists.
fn config_file_in(dir: &Path) -> Option<PathBuf> {
    let legacy = dir.join("config");
    if legacy.exists() {
        return Some(legacy);
    }
    let toml = dir.join("config.toml");
    toml.exists().then_some(toml)
}

fn load_file(
    cwd: &Path,
    path: &Path,
    seen: &mut HashSet<PathBuf>,
    why: Why,
    files: &mut Vec<PathBuf>,
) -> Result<Cv, ConfigError> {
    if !seen.insert(path.to_path_buf()) {
        return Err(ConfigError::IncludeCycle {
            path: path.to_path_buf(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let def = match why {
        Why::Discovery => Definition::File(path.to_path_buf()),
        Why::Cli => Definition::CommandLine(Some(path.to_path_buf())),
    };
    let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Toml {
        definition: def.clone(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let value = Cv::Table(Cv::table_from_toml(&def, table, &mut Vec::new())?, def);
    let merged = load_includes(cwd, value, seen, why, files)?;
    files.push(path.to_path_buf());
    Ok(merged)
}

/// Applies (and removes) the `include` key of a loaded table: included files
/// first, left to right, then the table itself on top.
fn load_includes(
    cwd: &Path,
    value: Cv,
    seen: &mut HashSet<PathBuf>,
    why: Why,
    files: &mut Vec<PathBuf>,
) -> Result<Cv, ConfigError> {
    let Cv::Table(mut table, def) = value else {
        return Ok(value);
    };
    let include_error = |definition: &Definition, reason: String| ConfigError::Include {
        definition: definition.clone(),
        reason,
    };
    let mut includes: Vec<(String, bool, Definition)> = Vec::new();
    match table.remove("include") {
        None => {}
        Some(Cv::List(items, _)) => {
            for (idx, item) in items.into_iter().enumerate() {
                match item {
                    Cv::Str(s, d) => includes.push((s, false, d)),
                    Cv::Table(mut t, d) => {
                        let path = match t.remove("path") {
                            Some(Cv::Str(s, _)) => s,
                            Some(other) => {
                                return Err(include_error(
                                    &d,
                                    format!(
                                        "expected a string at `include[{idx}].path`, found {}",
                                        other.desc()
                                    ),
                                ))
                            }
                            None => {
                                return Err(include_error(
                                    &d,
                                    format!("missing field `path` at `include[{idx}]`"),
                                ))
                            }
                        };
                        let optional = match t.remove("optional") {
                            Some(Cv::Bool(b, _)) => b,
                            Some(other) => {
                                return Err(include_error(
                                    &d,
                                    format!(
                                        "expected a boolean at `include[{idx}].optional`, found {}",
                                        other.desc()
                                    ),
                                ))
                            }
                            None => false,
                        };
                        includes.push((path, optional, d));
                    }
                    other => {
                        return Err(include_error(
                            other.definition(),
                            format!(
                                "expected a string or table at `include[{idx}]`, found {}",
                                other.desc()
                            ),
                        ))
                    }
                }
            }
        }
        Some(other) => {
            return Err(include_error(
                other.definition(),
                format!(
                    "expected a list of strings or tables, found {}",
                    other.desc()
                ),
            ))
        }
    }
    for (path, _, d) in &includes {
        if !path.ends_with(".toml") {
            return Err(include_error(
                d,
                format!("expected a config include path ending with `.toml`, found `{path}`"),
            ));
        }
        if path.contains(['*', '?', '[', ']']) {
            return Err(include_error(
                d,
                format!("expected a config include path without glob patterns, found `{path}`"),
            ));
        }
        if path.contains(['{', '}']) {
            return Err(include_error(
                d,
                format!("expected a config include path without template braces, found `{path}`"),
            ));
        }
    }
    let mut root = Cv::Table(BTreeMap::new(), def.clone());
    for (path, optional, d) in includes {
        let abs = normalize_path(&d.include_base(cwd).join(&path));
        if optional && !abs.exists() {
            continue;
        }
        let included = load_file(cwd, &abs, seen, why, files)?;
        root.merge(included, true, &mut Vec::new())?;
    }
    root.merge(Cv::Table(table, def), true, &mut Vec::new())?;
    Ok(root)
}

/// Lexical normalisation: `.` removed, `..` pops a component.
fn normalize_path(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A `--config KEY=VALUE` argument: one TOML dotted key set to a value that
/// is not an inline table, nothing else.
fn parse_cli_dotted(arg: &str) -> Result<toml::Table, ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidCliArgument {
        arg: arg.to_string(),
        reason: reason.to_string(),
    };
    let not_dotted = || {
        invalid(
            "not a TOML dotted key expression (such as `build.jobs = 2`) and not an existing file",
        )
    };
    // Lex the key part: simple keys separated by dots, then `=`.
    let bytes = arg.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < bytes.len() && (bytes[*i] == b' ' || bytes[*i] == b'\t') {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        match bytes.get(i) {
            Some(b'"') => {
                i += 1;
                loop {
                    match bytes.get(i) {
                        None | Some(b'\n') => return Err(not_dotted()),
                        Some(b'\\') => i += 2,
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            Some(b'\'') => {
                i += 1;
                loop {
                    match bytes.get(i) {
                        None | Some(b'\n') => return Err(not_dotted()),
                        Some(b'\'') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            Some(b) if b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_' => {
                while bytes
                    .get(i)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
                {
                    i += 1;
                }
            }
            _ => return Err(not_dotted()),
        }
        skip_ws(&mut i);
        match bytes.get(i) {
            Some(b'.') => i += 1,
            Some(b'=') => {
                i += 1;
                break;
            }
            _ => return Err(not_dotted()),
        }
    }
    skip_ws(&mut i);
    if bytes.get(i) == Some(&b'{') {
        return Err(invalid(
            "sets a value to an inline table, which is not accepted",
        ));
    }
    let table: toml::Table = toml::from_str(arg).map_err(|e| {
        invalid(&format!(
            "failed to parse as a dotted key expression: {}",
            e.to_string().trim_end()
        ))
    })?;
    // Exactly one chain of single-key tables ending in a value.
    let mut current = &table;
    loop {
        if current.len() != 1 {
            return Err(not_dotted());
        }
        match current.values().next() {
            Some(Value::Table(t)) => current = t,
            Some(_) => break,
            None => return Err(not_dotted()),
        }
    }
    // Secrets may not be passed on the command line.
    let has = |t: Option<&Value>, k: &str| {
        t.and_then(|v| v.as_table())
            .is_some_and(|t| t.contains_key(k))
    };
    for secret in ["token", "secret-key"] {
        if has(table.get("registry"), secret) {
            return Err(invalid(&format!(
                "registry.{secret} cannot be set through --config for security reasons"
            )));
        }
        if let Some(Value::Table(regs)) = table.get("registries") {
            if let Some((name, _)) = regs.iter().find(|(_, v)| has(Some(v), secret)) {
                return Err(invalid(&format!(
                    "registries.{name}.{secret} cannot be set through --config for security reasons"
                )));
            }
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A scratch directory removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Scratch {
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "civ-config-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create scratch dir");
            // Resolve symlinked temp dirs so paths compare equal.
            Scratch(std::fs::canonicalize(&dir).expect("canonicalize scratch dir"))
        }

        fn write(&self, rel: &str, text: &str) -> PathBuf {
            let p = self.0.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(&p, text).expect("write");
            p
        }

        fn dir(&self, rel: &str) -> PathBuf {
            let p = self.0.join(rel);
            std::fs::create_dir_all(&p).expect("mkdir");
            p
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn load(
        cwd: &Path,
        home: &Path,
        cli: &[&str],
        env: &[(&str, &str)],
    ) -> Result<CargoConfig, ConfigError> {
        let cli: Vec<String> = cli.iter().map(|s| s.to_string()).collect();
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        CargoConfig::load(cwd, home, &cli, &|k| env.get(k).cloned())
    }

    fn ok(r: Result<CargoConfig, ConfigError>) -> CargoConfig {
        match r {
            Ok(c) => c,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    fn resolve(c: &CargoConfig, source: &str) -> Result<ResolvedSource, ConfigError> {
        let id = SourceId::parse(source).expect("test source parses");
        c.resolve(&id)
    }

    fn resolved(c: &CargoConfig, source: &str) -> ResolvedSource {
        match resolve(c, source) {
            Ok(r) => r,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    const CIO: &str = "registry+https://github.com/rust-lang/crates.io-index";

    #[test]
    fn crates_io_defaults_to_sparse_without_replacement() {
        let s = Scratch::new();
        let c = ok(load(&s.dir("p"), &s.dir("home"), &[], &[]));
        assert!(c.files().is_empty());
        assert!(!c.offline());
        assert_eq!(c.crates_io_protocol(), CratesIoProtocol::Sparse);
        let r = resolved(&c, CIO);
        assert_eq!(r.original_name, "crates-io");
        assert_eq!(r.replaced_by, None);
        assert_eq!(r.defined_in, None);
        assert_eq!(
            r.effective,
            Effective::Sparse {
                url: "https://index.crates.io/".into()
            }
        );
        // The sparse spelling of crates.io resolves the same way.
        let r = resolved(&c, "sparse+https://index.crates.io/");
        assert_eq!(r.original_name, "crates-io");
        assert_eq!(
            r.effective,
            Effective::Sparse {
                url: "https://index.crates.io/".into()
            }
        );
        // A `.git` suffix or a trailing slash is the same source for cargo.
        let r = resolved(
            &c,
            "registry+https://github.com/rust-lang/crates.io-index.git/",
        );
        assert_eq!(r.original_name, "crates-io");
    }

    #[test]
    fn crates_io_git_protocol_from_file_env_and_cli() {
        let s = Scratch::new();
        let p = s.dir("p");
        let home = s.dir("home");
        let git = Effective::Git {
            url: CRATES_IO_INDEX.into(),
        };
        let c = ok(load(
            &p,
            &home,
            &["registries.crates-io.protocol = \"git\""],
            &[],
        ));
        assert_eq!(c.crates_io_protocol(), CratesIoProtocol::Git);
        assert_eq!(resolved(&c, CIO).effective, git);
        let c = ok(load(
            &p,
            &home,
            &[],
            &[("CARGO_REGISTRIES_CRATES_IO_PROTOCOL", "git")],
        ));
        assert_eq!(resolved(&c, CIO).effective, git);
        s.write(
            "p/.cargo/config.toml",
            "[registries.crates-io]\nprotocol = \"git\"\n",
        );
        let c = ok(load(&p, &home, &[], &[]));
        assert_eq!(resolved(&c, CIO).effective, git);
        // The environment beats the file, the command line beats both.
        let c = ok(load(
            &p,
            &home,
            &[],
            &[("CARGO_REGISTRIES_CRATES_IO_PROTOCOL", "sparse")],
        ));
        assert_eq!(c.crates_io_protocol(), CratesIoProtocol::Sparse);
        let c = ok(load(
            &p,
            &home,
            &["registries.crates-io.protocol='git'"],
            &[("CARGO_REGISTRIES_CRATES_IO_PROTOCOL", "sparse")],
        ));
        assert_eq!(c.crates_io_protocol(), CratesIoProtocol::Git);
        // With git protocol, a lock file naming the sparse index uses it
        // directly: it is no configured source.
        let r = resolved(&c, "sparse+https://index.crates.io/");
        assert_eq!(
            r.effective,
            Effective::Sparse {
                url: "https://index.crates.io/".into()
            }
        );
        assert_eq!(r.original_name, "crates-io");
    }

    #[test]
    fn bad_protocol_names_definition() {
        let s = Scratch::new();
        let f = s.write(
            "p/.cargo/config.toml",
            "registries.crates-io.protocol = \"ftp\"\n",
        );
        match load(&s.dir("p"), &s.dir("home"), &[], &[]) {
            Err(ConfigError::UnsupportedProtocol { value, definition }) => {
                assert_eq!(value, "ftp");
                assert_eq!(definition, Definition::File(f.clone()));
            }
            other => panic!("{other:?}"),
        }
        match load(
            &s.dir("p"),
            &s.dir("home"),
            &[],
            &[("CARGO_REGISTRIES_CRATES_IO_PROTOCOL", "1")],
        ) {
            Err(e @ ConfigError::WrongType { .. }) => {
                assert!(
                    e.to_string()
                        .contains("CARGO_REGISTRIES_CRATES_IO_PROTOCOL"),
                    "{e}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn replace_with_directory_relative_to_config_root() {
        let s = Scratch::new();
        let f = s.write(
            "ws/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"vendored\"\n\n[source.vendored]\ndirectory = \"vendor\"\n",
        );
        let cwd = s.dir("ws/crates/app/src");
        let c = ok(load(&cwd, &s.dir("home"), &[], &[]));
        assert_eq!(c.files(), std::slice::from_ref(&f));
        let r = resolved(&c, CIO);
        assert_eq!(r.original_name, "crates-io");
        assert_eq!(r.replaced_by.as_deref(), Some("vendored"));
        assert_eq!(
            r.effective,
            Effective::Directory {
                path: s.0.join("ws/vendor")
            }
        );
        assert_eq!(r.defined_in, Some(Definition::File(f)));
    }

    #[test]
    fn replace_chain_to_local_registry_and_sparse_mirror() {
        let s = Scratch::new();
        s.write(
            "ws/.cargo/config.toml",
            r#"
[source.crates-io]
replace-with = "company"
[source.company]
registry = "sparse+https://mirror.example.com/index/"
replace-with = "offline"
[source.offline]
local-registry = "/srv/registry"
"#,
        );
        let c = ok(load(&s.dir("ws"), &s.dir("home"), &[], &[]));
        let r = resolved(&c, CIO);
        assert_eq!(r.replaced_by.as_deref(), Some("offline"));
        assert_eq!(
            r.effective,
            Effective::LocalRegistry {
                path: "/srv/registry".into()
            }
        );
        // The mirror's own packages (a lock file written against it) are
        // also replaced.
        let r = resolved(&c, "sparse+https://mirror.example.com/index");
        assert_eq!(r.original_name, "company");
        assert_eq!(r.replaced_by.as_deref(), Some("offline"));
        // Without the last hop, the mirror itself is used.
        let c = ok(load(
            &s.dir("ws"),
            &s.dir("home"),
            &[
                "source.company.replace-with = \"company2\"",
                "source.company2.registry = \"https://git.example.com/index.git\"",
            ],
            &[],
        ));
        let r = resolved(&c, CIO);
        assert_eq!(r.replaced_by.as_deref(), Some("company2"));
        assert_eq!(
            r.effective,
            Effective::Git {
                url: "https://git.example.com/index.git".into()
            }
        );
        assert_eq!(r.defined_in, Some(Definition::CommandLine(None)));
    }

    #[test]
    fn replace_with_registries_entry() {
        let s = Scratch::new();
        s.write(
            "ws/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"my-mirror\"\n[registries.my-mirror]\nindex = \"sparse+https://m.example.com/\"\n",
        );
        let c = ok(load(&s.dir("ws"), &s.dir("home"), &[], &[]));
        let r = resolved(&c, CIO);
        assert_eq!(r.replaced_by.as_deref(), Some("my-mirror"));
        assert_eq!(
            r.effective,
            Effective::Sparse {
                url: "https://m.example.com/".into()
            }
        );
        // The index may come from the environment.
        s.write(
            "ws/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"env-mirror\"\n",
        );
        let c = ok(load(
            &s.dir("ws"),
            &s.dir("home"),
            &[],
            &[(
                "CARGO_REGISTRIES_ENV_MIRROR_INDEX",
                "https://git.example.com/idx",
            )],
        ));
        let r = resolved(&c, CIO);
        assert_eq!(
            r.effective,
            Effective::Git {
                url: "https://git.example.com/idx".into()
            }
        );
        assert!(
            matches!(r.defined_in, Some(Definition::Environment(ref k)) if k == "CARGO_REGISTRIES_ENV_MIRROR_INDEX")
        );
    }

    #[test]
    fn unknown_replacement_and_cycles_are_errors_naming_file() {
        let s = Scratch::new();
        let f = s.write(
            "ws/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"nope\"\n",
        );
        let c = ok(load(&s.dir("ws"), &s.dir("home"), &[], &[]));
        match resolve(&c, CIO) {
            Err(e @ ConfigError::UnknownSource { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("nope") && msg.contains(&f.display().to_string()),
                    "{msg}"
                );
            }
            other => panic!("{other:?}"),
        }
        s.write(
            "ws/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"a\"\n[source.a]\nregistry = \"https://a.example/\"\nreplace-with = \"b\"\n[source.b]\nregistry = \"https://b.example/\"\nreplace-with = \"a\"\n",
        );
        let c = ok(load(&s.dir("ws"), &s.dir("home"), &[], &[]));
        match resolve(&c, CIO) {
            Err(ConfigError::ReplaceCycle {
                name, definition, ..
            }) => {
                assert_eq!(name, "a");
                assert_eq!(definition, Definition::File(f.clone()));
            }
            other => panic!("{other:?}"),
        }
        s.write(
            "ws/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"r\"\n[registries.r]\nindex = \"https://u:pw@r.example/\"\n",
        );
        let c = ok(load(&s.dir("ws"), &s.dir("home"), &[], &[]));
        assert!(matches!(
            resolve(&c, CIO),
            Err(ConfigError::InvalidUrl { key, .. }) if key == "registries.r.index"
        ));
        s.write(
            "ws/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"not.a.name\"\n",
        );
        let c = ok(load(&s.dir("ws"), &s.dir("home"), &[], &[]));
        assert!(matches!(
            resolve(&c, CIO),
            Err(ConfigError::UnknownSource { .. })
        ));
        s.write(
            "ws/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"crates-io\"\n",
        );
        let c = ok(load(&s.dir("ws"), &s.dir("home"), &[], &[]));
        assert!(matches!(
            resolve(&c, CIO),
            Err(ConfigError::ReplaceCycle { .. })
        ));
    }

    #[test]
    fn replacing_registry_with_git_is_refused() {
        let s = Scratch::new();
        s.write(
            "ws/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"g\"\n[source.g]\ngit = \"https://example.com/r.git\"\nbranch = \"main\"\n",
        );
        let c = ok(load(&s.dir("ws"), &s.dir("home"), &[], &[]));
        assert!(matches!(
            resolve(&c, CIO),
            Err(ConfigError::ReplacementWithoutChecksums { .. })
        ));
    }

    #[test]
    fn source_definition_errors() {
        let s = Scratch::new();
        let cases = [
            (
                "[source.x]\nreplace-with = \"crates-io\"\n",
                "no source location",
            ),
            (
                "[source.x]\nregistry = \"https://a/\"\ndirectory = \"d\"\n",
                "more than one",
            ),
            (
                "[source.x]\ndirectory = \"d\"\nbranch = \"b\"\n",
                "requires a `git` key",
            ),
            ("[source.x]\nregistry = \"not a url\"\n", "invalid URL"),
            ("[source.x]\nregistry = 5\n", "expected a string"),
            ("source = 5\n", "expected a table"),
            ("[source]\nx = 5\n", "expected a table"),
            (
                "[source.x]\nregistry = \"https://github.com/rust-lang/crates.io-index\"\n",
                "already defined by `crates-io`",
            ),
            (
                "[source.x]\nregistry = \"sparse+https://index.crates.io/\"\n",
                "already defined by `crates-io`",
            ),
            (
                "[source.x]\ndirectory = \"v\"\n[source.y]\ndirectory = \"./v\"\n",
                "already defined",
            ),
            (
                "[registry]\nindex = \"https://x/\"\n",
                "no longer supported",
            ),
        ];
        for (text, expected) in cases {
            let f = s.write("ws/.cargo/config.toml", text);
            match load(&s.dir("ws"), &s.dir("home"), &[], &[]) {
                Ok(_) => panic!("{text}: expected an error"),
                Err(e) => {
                    let msg = e.to_string();
                    assert!(msg.contains(expected), "{text}: {msg}");
                    assert!(msg.contains(&f.display().to_string()), "{text}: {msg}");
                }
            }
        }
        // Redefining crates-io's location itself is allowed (cargo's way of
        // forcing the git index).
        s.write(
            "ws/.cargo/config.toml",
            "[source.crates-io]\nregistry = \"https://github.com/rust-lang/crates.io-index\"\n",
        );
        let c = ok(load(&s.dir("ws"), &s.dir("home"), &[], &[]));
        let r = resolved(&c, CIO);
        assert_eq!(
            r.effective,
            Effective::Git {
                url: CRATES_IO_INDEX.into()
            }
        );
        assert_eq!(r.replaced_by, None);
        // `registry.index` from the environment is refused too.
        s.write("ws/.cargo/config.toml", "");
        assert!(matches!(
            load(
                &s.dir("ws"),
                &s.dir("home"),
                &[],
                &[("CARGO_REGISTRY_INDEX", "https://x/")]
            ),
            Err(ConfigError::RegistryIndexUnsupported {
                definition: Definition::Environment(_)
            })
        ));
    }

    #[test]
    fn precedence_deeper_files_home_env_cli() {
        let s = Scratch::new();
        let home = s.dir("home");
        s.write("home/config.toml", "[net]\noffline = true\n[source.m]\nregistry = \"https://home.example/\"\n[source.crates-io]\nreplace-with = \"m\"\n");
        s.write(
            "a/.cargo/config.toml",
            "[source.m]\nregistry = \"https://outer.example/\"\n",
        );
        s.write(
            "a/b/.cargo/config",
            "[source.m]\nregistry = \"https://inner.example/\"\n",
        );
        // The legacy name wins over config.toml in the same directory.
        s.write(
            "a/b/.cargo/config.toml",
            "[source.m]\nregistry = \"https://ignored.example/\"\n",
        );
        let cwd = s.dir("a/b/c");
        let c = ok(load(&cwd, &home, &[], &[]));
        assert_eq!(
            c.files(),
            &[
                s.0.join("a/b/.cargo/config"),
                s.0.join("a/.cargo/config.toml"),
                s.0.join("home/config.toml")
            ]
        );
        assert!(c.offline(), "net.offline from $CARGO_HOME");
        let r = resolved(&c, CIO);
        assert_eq!(
            r.effective,
            Effective::Git {
                url: "https://inner.example/".into()
            }
        );
        assert_eq!(
            r.defined_in,
            Some(Definition::File(s.0.join("a/b/.cargo/config")))
        );
        // Environment beats files for a field, also inside [source.NAME]
        // (the name keeps its spelling in the variable).
        let c = ok(load(
            &cwd,
            &home,
            &[],
            &[
                ("CARGO_NET_OFFLINE", "false"),
                ("CARGO_SOURCE_m_REGISTRY", "https://env.example/"),
            ],
        ));
        assert!(!c.offline());
        assert_eq!(
            resolved(&c, CIO).effective,
            Effective::Git {
                url: "https://env.example/".into()
            }
        );
        // --config beats the environment.
        let c = ok(load(
            &cwd,
            &home,
            &[
                "net.offline=true",
                "source.m.registry = 'https://cli.example/'",
            ],
            &[
                ("CARGO_NET_OFFLINE", "false"),
                ("CARGO_SOURCE_m_REGISTRY", "https://env.example/"),
            ],
        ));
        assert!(c.offline());
        assert_eq!(
            resolved(&c, CIO).effective,
            Effective::Git {
                url: "https://cli.example/".into()
            }
        );
        // A malformed offline value counts as not offline, as in cargo.
        let c = ok(load(&cwd, &home, &[], &[("CARGO_NET_OFFLINE", "yes")]));
        assert!(!c.offline());
    }

    #[test]
    fn cargo_home_inside_ancestors_is_read_once() {
        let s = Scratch::new();
        s.write(
            "u/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"v\"\n[source.v]\ndirectory = \"vendor\"\n",
        );
        let c = ok(load(&s.dir("u/project"), &s.0.join("u/.cargo"), &[], &[]));
        assert_eq!(c.files().len(), 1);
        let r = resolved(&c, CIO);
        assert_eq!(
            r.effective,
            Effective::Directory {
                path: s.0.join("u/vendor")
            }
        );
        // Outside the ancestor chain, CARGO_HOME paths are relative to the
        // parent of CARGO_HOME.
        let c = ok(load(&s.dir("elsewhere"), &s.0.join("u/.cargo"), &[], &[]));
        assert_eq!(c.files(), &[s.0.join("u/.cargo/config.toml")]);
        assert_eq!(
            resolved(&c, CIO).effective,
            Effective::Directory {
                path: s.0.join("u/vendor")
            }
        );
    }

    #[test]
    fn cli_file_argument_and_relative_paths() {
        let s = Scratch::new();
        let cwd = s.dir("ws");
        s.write(
            "ws/extra/cfg/my.toml",
            "[source.crates-io]\nreplace-with = \"v\"\n[source.v]\nlocal-registry = \"reg\"\n",
        );
        let c = ok(load(&cwd, &s.dir("home"), &["extra/cfg/my.toml"], &[]));
        let r = resolved(&c, CIO);
        // Relative to two levels up from the file, like a .cargo/config.toml.
        assert_eq!(
            r.effective,
            Effective::LocalRegistry {
                path: s.0.join("ws/extra/reg")
            }
        );
        assert_eq!(
            r.defined_in,
            Some(Definition::CommandLine(Some(
                s.0.join("ws/extra/cfg/my.toml")
            )))
        );
        // Dotted --config values are relative to the working directory.
        let c = ok(load(
            &cwd,
            &s.dir("home"),
            &[
                "source.crates-io.replace-with='v'",
                "source.v.directory='vendor'",
            ],
            &[],
        ));
        assert_eq!(
            resolved(&c, CIO).effective,
            Effective::Directory {
                path: cwd.join("vendor")
            }
        );
    }

    #[test]
    fn cli_argument_validation() {
        let s = Scratch::new();
        let bad = [
            "",
            "foo",
            "[source]",
            "a = {b = 1}",
            "a.b = { c = 1 }",
            "a = 1\nb = 2",
            "a.b = 1\na.c = 2",
            "a =",
            "= 1",
            "registry.token = \"x\"",
            "registries.foo.token = \"x\"",
            "registries.foo.secret-key = \"x\"",
            "a = 1.5",
            "\"unterminated = 1",
        ];
        for arg in bad {
            assert!(
                load(&s.dir("ws"), &s.dir("home"), &[arg], &[]).is_err(),
                "{arg:?}"
            );
        }
        let good = [
            "net.offline = true",
            "source.\"my.mirror\".directory = 'v'",
            "source . x . directory='v'",
            "a.b = [1, 2]",
            "'quoted'.key = \"v\"",
        ];
        for arg in good {
            if let Err(e) = load(&s.dir("ws"), &s.dir("home"), &[arg], &[]) {
                // `source.x` without replace-with is fine; only type errors fail.
                panic!("{arg:?}: {e}");
            }
        }
        let c = ok(load(
            &s.dir("ws"),
            &s.dir("home"),
            &[
                "source.\"my.mirror\".directory = 'v'",
                "source.crates-io.replace-with = \"my.mirror\"",
            ],
            &[],
        ));
        assert_eq!(resolved(&c, CIO).replaced_by.as_deref(), Some("my.mirror"));
    }

    #[test]
    fn includes() {
        let s = Scratch::new();
        s.write(
            "ws/.cargo/config.toml",
            "include = [\"mirror.toml\", { path = \"missing.toml\", optional = true }]\n[source.m]\nregistry = \"https://own.example/\"\n",
        );
        s.write(
            "ws/.cargo/mirror.toml",
            "[source.crates-io]\nreplace-with = \"m\"\n[source.m]\nregistry = \"https://included.example/\"\n",
        );
        let c = ok(load(&s.dir("ws"), &s.dir("home"), &[], &[]));
        // The including file's own values win over the included file's.
        assert_eq!(
            resolved(&c, CIO).effective,
            Effective::Git {
                url: "https://own.example/".into()
            }
        );
        assert_eq!(
            c.files(),
            &[
                s.0.join("ws/.cargo/mirror.toml"),
                s.0.join("ws/.cargo/config.toml")
            ]
        );

        let cases = [
            ("include = [\"missing.toml\"]\n", "missing.toml"),
            ("include = \"x.toml\"\n", "expected a list"),
            ("include = [\"x.json\"]\n", "ending with `.toml`"),
            ("include = [\"*.toml\"]\n", "glob"),
            ("include = [\"{a}.toml\"]\n", "template"),
            ("include = [{ optional = true }]\n", "missing field `path`"),
            (
                "include = [{ path = \"a.toml\", optional = 1 }]\n",
                "expected a boolean",
            ),
            ("include = [\"self.toml\"]\n", "cycle"),
        ];
        s.write("ws/.cargo/self.toml", "include = [\"self.toml\"]\n");
        for (text, expected) in cases {
            s.write("ws/.cargo/config.toml", text);
            match load(&s.dir("ws"), &s.dir("home"), &[], &[]) {
                Ok(_) => panic!("{text}: expected an error"),
                Err(e) => assert!(e.to_string().contains(expected), "{text}: {e}"),
            }
        }
    }

    #[test]
    fn merge_conflicts_and_unsupported_types() {
        let s = Scratch::new();
        s.write("a/.cargo/config.toml", "source = \"x\"\n");
        s.write("a/b/.cargo/config.toml", "[source.m]\ndirectory = \"v\"\n");
        match load(&s.dir("a/b"), &s.dir("home"), &[], &[]) {
            Err(e @ ConfigError::Merge { .. }) => assert!(e.to_string().contains("source"), "{e}"),
            other => panic!("{other:?}"),
        }
        s.write("a/.cargo/config.toml", "[build]\njobs = 1.5\n");
        match load(&s.dir("a/b"), &s.dir("home"), &[], &[]) {
            Err(ConfigError::UnsupportedType { key, found, .. }) => {
                assert_eq!(key, "build.jobs");
                assert_eq!(found, "float");
            }
            other => panic!("{other:?}"),
        }
        s.write("a/.cargo/config.toml", "[source\n");
        assert!(matches!(
            load(&s.dir("a/b"), &s.dir("home"), &[], &[]),
            Err(ConfigError::Toml { .. })
        ));
        // Scalars of different types replace each other; arrays concatenate.
        s.write("a/.cargo/config.toml", "[x]\nv = 1\nl = [\"outer\"]\n");
        s.write(
            "a/b/.cargo/config.toml",
            "[x]\nv = \"s\"\nl = [\"inner\"]\n",
        );
        let c = ok(load(&s.dir("a/b"), &s.dir("home"), &[], &[]));
        match c.lookup(&["x", "l"]) {
            Ok(Some(Cv::List(items, _))) => {
                let v: Vec<_> = items
                    .iter()
                    .filter_map(|i| match i {
                        Cv::Str(s, _) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect();
                assert_eq!(v, ["outer", "inner"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(c.lookup(&["x", "v"]), Ok(Some(Cv::Str(..)))));
    }

    #[test]
    fn unreadable_config_is_an_error() {
        let s = Scratch::new();
        // A directory where the file should be: cargo fails to read it.
        s.dir("ws/.cargo/config");
        assert!(matches!(
            load(&s.dir("ws"), &s.dir("home"), &[], &[]),
            Err(ConfigError::Io { .. })
        ));
    }

    #[test]
    fn registry_names() {
        let s = Scratch::new();
        s.write(
            "ws/.cargo/config.toml",
            "[registries.alpha]\nindex = \"https://git.example.com/alpha-index.git\"\n[registries.beta]\nindex = \"sparse+https://beta.example.com/idx/\"\n[registries.secret]\nindex = \"https://u:pw@x.example/\"\n[registries.bad]\nindex = \"nope\"\n",
        );
        let c = ok(load(&s.dir("ws"), &s.dir("home"), &[], &[]));
        let id = |s: &str| SourceId::parse(s).expect("parses");
        assert_eq!(
            c.registry_name_for(&id("registry+https://git.example.com/alpha-index"))
                .as_deref(),
            Some("alpha")
        );
        assert_eq!(
            c.registry_name_for(&id("sparse+https://beta.example.com/idx"))
                .as_deref(),
            Some("beta")
        );
        assert_eq!(
            c.registry_name_for(&id("registry+https://beta.example.com/idx/")),
            None
        );
        assert_eq!(c.registry_name_for(&id(CIO)).as_deref(), Some("crates-io"));
        assert_eq!(
            c.registry_name_for(&id("sparse+https://index.crates.io/"))
                .as_deref(),
            Some("crates-io")
        );
        assert!(matches!(
            c.registry_index("secret"),
            Err(ConfigError::InvalidUrl { .. })
        ));
        assert!(matches!(
            c.registry_index("bad"),
            Err(ConfigError::InvalidUrl { .. })
        ));
        assert!(matches!(
            c.registry_index("1abc"),
            Err(ConfigError::InvalidRegistryName { .. })
        ));
        assert!(matches!(c.registry_index("none"), Ok(None)));
        // A package from an alternative registry without [source] entry is
        // used directly, named after its [registries] entry.
        let r = resolved(&c, "sparse+https://beta.example.com/idx/");
        assert_eq!(r.original_name, "beta");
        assert_eq!(r.replaced_by, None);
        assert_eq!(
            r.effective,
            Effective::Sparse {
                url: "https://beta.example.com/idx/".into()
            }
        );
        let r = resolved(&c, "registry+https://unknown.example/index");
        assert_eq!(r.original_name, "https://unknown.example/index");
        assert_eq!(
            r.effective,
            Effective::Git {
                url: "https://unknown.example/index".into()
            }
        );
        // Env index for a known name.
        let c = ok(load(
            &s.dir("ws"),
            &s.dir("home"),
            &[],
            &[("CARGO_REGISTRIES_ALPHA_INDEX", "https://env.example/")],
        ));
        assert_eq!(
            c.registry_index("alpha")
                .ok()
                .flatten()
                .map(|(u, _)| u)
                .as_deref(),
            Some("https://env.example/")
        );
    }

    #[test]
    fn non_registry_sources_are_caller_misuse() {
        let s = Scratch::new();
        let c = ok(load(&s.dir("ws"), &s.dir("home"), &[], &[]));
        for src in ["git+https://example.com/r#abc", "path+file:///x"] {
            assert!(
                matches!(resolve(&c, src), Err(ConfigError::NotARegistry { .. })),
                "{src}"
            );
        }
    }

    #[test]
    fn env_is_only_read_for_known_keys() {
        let s = Scratch::new();
        s.write("ws/.cargo/config.toml", "[source.Mirror]\ndirectory = \"v\"\n[registries.r-1]\nindex = \"https://r.example/\"\n");
        let asked = std::cell::RefCell::new(BTreeSet::new());
        let env = |k: &str| {
            asked.borrow_mut().insert(k.to_string());
            None
        };
        let _ = CargoConfig::load(&s.dir("ws"), &s.dir("home"), &[], &env).expect("loads");
        let asked = asked.into_inner();
        assert!(asked.contains("CARGO_NET_OFFLINE"));
        assert!(asked.contains("CARGO_SOURCE_Mirror_REPLACE_WITH"));
        assert!(asked.contains("CARGO_SOURCE_Mirror_LOCAL_REGISTRY"));
        assert!(asked.contains("CARGO_REGISTRIES_R_1_INDEX"));
        assert!(asked.iter().all(|k| k.starts_with("CARGO_")), "{asked:?}");
        let _ = no_env("x");
    }

    #[test]
    fn definition_display_and_helpers() {
        assert_eq!(
            Definition::Environment("X".into()).to_string(),
            "environment variable `X`"
        );
        assert!(Definition::File("/a/.cargo/config.toml".into())
            .to_string()
            .contains("/a/.cargo/config.toml"));
        assert_eq!(
            normalize_path(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
        assert_eq!(
            env_key(&[("source", false), ("my-src", true), ("replace-with", false)]),
            "CARGO_SOURCE_my-src_REPLACE_WITH"
        );
        assert_eq!(
            registry_index_env("my-reg"),
            "CARGO_REGISTRIES_MY_REG_INDEX"
        );
        assert!(validate_registry_name("_a-b1").is_ok());
        assert!(validate_registry_name("").is_err());
        assert!(validate_registry_name("a.b").is_err());
    }
}
