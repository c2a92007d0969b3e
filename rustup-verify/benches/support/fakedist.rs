//! A small but real dist tree for end-to-end tests and benchmarks: rustup
//! installer tarballs (gz, xz, zst) of a fake toolchain whose `rustc` and
//! `cargo` are shell scripts printing a version, channel manifests in
//! rustup's format, rustup release files, the root repository (made with
//! the root ceremony) signing it all, and a static HTTP server on
//! 127.0.0.1 playing the mirror.
//!
//! Shared by `rustup-verify/benches/hook.rs` and the workspace end-to-end
//! tests (`tests/tests/e2e/rustup.rs`), which include this file.
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use shared_trust::crypto::{Ed25519Signer, Key, Signer};
use shared_trust::keyfile;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use trust_roots::ceremony::{self, InitSpec, RoleSpec, RELEASES_PATHS};

/// The host triple rustup installs for on this machine (Linux only).
pub fn host_triple() -> String {
    format!("{}-unknown-linux-gnu", std::env::consts::ARCH)
}

/// SHA-256 of bytes, hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A file of a component: path, content, executable.
pub type ComponentFile = (String, Vec<u8>, bool);

/// A rust-installer (version 3) tarball, uncompressed: one component and
/// its files.
pub fn installer_tar(component: &str, dir_name: &str, files: &[ComponentFile]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    // Directory entries first, as rust-installer writes them (rustup warns
    // about files whose parent directory the archive never created).
    let mut dirs = std::collections::BTreeSet::new();
    let mut add = |path: String, data: &[u8], exec: bool| {
        let parts: Vec<&str> = path.split('/').collect();
        for i in 1..parts.len() {
            let dir = parts[..i].join("/");
            if dirs.insert(dir.clone()) {
                let mut h = tar::Header::new_gnu();
                h.set_size(0);
                h.set_mode(0o755);
                h.set_mtime(1_700_000_000);
                h.set_entry_type(tar::EntryType::Directory);
                b.append_data(&mut h, format!("{dir}/"), std::io::empty())
                    .expect("tar directory entry");
            }
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(if exec { 0o755 } else { 0o644 });
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, data).expect("tar entry");
    };
    add(format!("{dir_name}/rust-installer-version"), b"3\n", false);
    add(
        format!("{dir_name}/components"),
        format!("{component}\n").as_bytes(),
        false,
    );
    let manifest: String = files
        .iter()
        .map(|(p, _, _)| format!("file:{p}\n"))
        .collect();
    add(
        format!("{dir_name}/{component}/manifest.in"),
        manifest.as_bytes(),
        false,
    );
    for (p, data, exec) in files {
        add(format!("{dir_name}/{component}/{p}"), data, *exec);
    }
    b.into_inner().expect("tar finish")
}

/// gzip.
pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// xz.
pub fn xz(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    lzma_rs::xz_compress(&mut std::io::BufReader::new(data), &mut out).expect("xz");
    out
}

/// zstd.
pub fn zst(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// Deterministic bytes that do not compress (xorshift).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A fake toolchain release.
#[derive(Clone, Debug)]
pub struct Toolchain {
    /// `stable`, `beta` or `nightly`.
    pub channel: String,
    /// e.g. `1.86.0`.
    pub version: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Extra incompressible bytes inside rustc and rust-std (benchmarks).
    pub payload: usize,
}

impl Toolchain {
    /// A release with no payload.
    pub fn new(channel: &str, version: &str, date: &str) -> Self {
        Toolchain {
            channel: channel.into(),
            version: version.into(),
            date: date.into(),
            payload: 0,
        }
    }

    /// The version string `rustc --version` prints.
    pub fn rustc_version(&self) -> String {
        format!("rustc {} (fake {})", self.version, self.date)
    }

    fn tag(&self) -> &str {
        match self.channel.as_str() {
            "beta" | "nightly" => &self.channel,
            _ => &self.version,
        }
    }

    /// Server path of a package's tarball (`ext`: `tar.gz`, `tar.xz`, `tar.zst`).
    pub fn artifact(&self, pkg: &str, ext: &str) -> String {
        format!(
            "dist/{}/{pkg}-{}-{}.{ext}",
            self.date,
            self.tag(),
            host_triple()
        )
    }

    /// Server path of the channel manifest.
    pub fn manifest_path(&self) -> String {
        format!("dist/channel-rust-{}.toml", self.channel)
    }

    /// Server path of the dated copy.
    pub fn dated_manifest_path(&self) -> String {
        format!("dist/{}/channel-rust-{}.toml", self.date, self.channel)
    }
}

/// Writes a toolchain's tarballs, its channel manifest, the dated copy and
/// their `.sha256` files into `tree`. rustc is listed as gz, xz and zst
/// (rustup takes zst), cargo as gz and xz (rustup takes xz), rust-std as
/// gz only.
pub fn write_toolchain(tree: &Path, t: &Toolchain) {
    let triple = host_triple();
    let script = |what: &str| -> Vec<u8> { format!("#!/bin/sh\necho \"{what}\"\n").into_bytes() };
    let mut rustc_files = vec![("bin/rustc".to_string(), script(&t.rustc_version()), true)];
    let mut std_files = vec![(
        format!("lib/rustlib/{triple}/lib/libstd-fake.rlib"),
        format!("fake std {}\n", t.version).into_bytes(),
        false,
    )];
    if t.payload > 0 {
        rustc_files.push(("lib/librustc-payload.so".into(), noise(t.payload, 1), false));
        std_files.push((
            format!("lib/rustlib/{triple}/lib/libstd-payload.rlib"),
            noise(t.payload, 2),
            false,
        ));
    }
    let packages: Vec<(&str, Vec<ComponentFile>, &[&str])> = vec![
        ("rustc", rustc_files, &["tar.gz", "tar.xz", "tar.zst"]),
        (
            "cargo",
            vec![(
                "bin/cargo".into(),
                script(&format!("cargo {} (fake)", t.version)),
                true,
            )],
            &["tar.gz", "tar.xz"],
        ),
        ("rust-std", std_files, &["tar.gz"]),
    ];
    let dated = tree.join("dist").join(&t.date);
    std::fs::create_dir_all(&dated).unwrap();
    let mut manifest = format!("manifest-version = \"2\"\ndate = \"{}\"\n", t.date);
    for (pkg, files, exts) in &packages {
        let dir_name = format!("{pkg}-{}-{triple}", t.tag());
        let tar = installer_tar(pkg, &dir_name, files);
        manifest.push_str(&format!(
            "[pkg.{pkg}]\nversion = \"{} (fake {})\"\n[pkg.{pkg}.target.{triple}]\navailable = true\n",
            t.version, t.date
        ));
        for ext in *exts {
            let bytes = match *ext {
                "tar.gz" => gz(&tar),
                "tar.xz" => xz(&tar),
                _ => zst(&tar),
            };
            let path = t.artifact(pkg, ext);
            std::fs::write(tree.join(&path), &bytes).unwrap();
            let (url_key, hash_key) = match *ext {
                "tar.gz" => ("url", "hash"),
                "tar.xz" => ("xz_url", "xz_hash"),
                _ => ("zst_url", "zst_hash"),
            };
            manifest.push_str(&format!(
                "{url_key} = \"https://static.rust-lang.org/{path}\"\n{hash_key} = \"{}\"\n",
                sha256_hex(&bytes)
            ));
        }
        manifest.push('\n');
    }
    manifest.push_str(&format!(
        "[pkg.rust]\nversion = \"{} (fake {})\"\n[pkg.rust.target.{triple}]\navailable = true\n",
        t.version, t.date
    ));
    for pkg in ["rustc", "rust-std", "cargo"] {
        manifest.push_str(&format!(
            "[[pkg.rust.target.{triple}.components]]\npkg = \"{pkg}\"\ntarget = \"{triple}\"\n"
        ));
    }
    manifest.push_str(
        "\n[profiles]\nminimal = [\"rustc\", \"cargo\", \"rust-std\"]\ndefault = [\"rustc\", \"cargo\", \"rust-std\"]\n",
    );
    for path in [t.manifest_path(), t.dated_manifest_path()] {
        write_with_sha256(tree, &path, manifest.as_bytes());
    }
}

/// Writes `tree/path` and `tree/path.sha256` (as the dist server does).
pub fn write_with_sha256(tree: &Path, path: &str, bytes: &[u8]) {
    let p = tree.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    let name = path.rsplit('/').next().unwrap();
    std::fs::write(
        tree.join(format!("{path}.sha256")),
        format!("{}  {name}\n", sha256_hex(bytes)),
    )
    .unwrap();
}

/// `rustup/release-stable.toml` naming `version`.
pub fn write_rustup_release(tree: &Path, version: &str) {
    let dir = tree.join("rustup");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("release-stable.toml"),
        format!("schema-version = '1'\nversion = '{version}'\n"),
    )
    .unwrap();
}

/// `rustup/archive/VERSION/HOST/rustup-init`: a script that, run with
/// `--self-replace` as rustup does, writes `CARGO_HOME/self-replaced`.
pub fn write_rustup_init(tree: &Path, version: &str) -> PathBuf {
    let dir = tree
        .join("rustup/archive")
        .join(version)
        .join(host_triple());
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("rustup-init");
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\n[ \"$1\" = --self-replace ] && echo \"rustup-init {version}\" > \"$CARGO_HOME/self-replaced\"\nexit 0\n"
        ),
    )
    .unwrap();
    p
}

/// The release team's and the root ceremony's keys, as key files.
pub struct Keys {
    /// Directory holding `NAME.key` and `NAME.pub.json`.
    pub dir: PathBuf,
}

/// Key names: two root holders (threshold 2), online timestamp and
/// snapshot, targets, two release keys (threshold 2), one nightly key.
pub const KEY_NAMES: [&str; 8] = [
    "root1", "root2", "ts", "snap", "tgt", "rel1", "rel2", "nightly",
];

impl Keys {
    /// Generates every key into `dir`.
    pub fn generate(dir: &Path) -> Keys {
        std::fs::create_dir_all(dir).unwrap();
        for name in KEY_NAMES {
            let s = Ed25519Signer::generate();
            keyfile::write_private_key(&dir.join(format!("{name}.key")), &s).unwrap();
            std::fs::write(
                dir.join(format!("{name}.pub.json")),
                keyfile::public_key_json(s.public_key()),
            )
            .unwrap();
        }
        Keys {
            dir: dir.to_path_buf(),
        }
    }

    /// A key file.
    pub fn key(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.key"))
    }

    /// A public key file.
    pub fn public(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.pub.json"))
    }

    /// A signer.
    pub fn signer(&self, name: &str) -> Ed25519Signer {
        keyfile::read_private_key(&self.key(name)).unwrap()
    }

    /// A public key.
    pub fn public_key(&self, name: &str) -> Key {
        self.signer(name).public_key().clone()
    }
}

/// Runs the root ceremony for the root repository in `tree/tuf` at time
/// `now`: root 2 of 2, targets 1, releases 2 of 2. Returns root v1.
pub fn root_ceremony(tree: &Path, keys: &Keys, now: i64) -> Vec<u8> {
    let dir = tree.join("tuf");
    let spec = |names: &[&str], threshold: u64| RoleSpec {
        keys: names.iter().map(|n| keys.public_key(n)).collect(),
        threshold,
    };
    let mut roles = BTreeMap::new();
    roles.insert("root".to_string(), spec(&["root1", "root2"], 2));
    roles.insert("timestamp".to_string(), spec(&["ts"], 1));
    roles.insert("snapshot".to_string(), spec(&["snap"], 1));
    roles.insert("targets".to_string(), spec(&["tgt"], 1));
    ceremony::init(
        &dir,
        &InitSpec {
            roles,
            releases: Some((
                spec(&["rel1", "rel2"], 2),
                RELEASES_PATHS.iter().map(|s| s.to_string()).collect(),
            )),
            root_days: 365,
            targets_days: 365,
            now,
        },
    )
    .unwrap();
    for holder in ["root1", "root2", "tgt"] {
        ceremony::sign(&dir, &keys.signer(holder)).unwrap();
    }
    ceremony::publish(&dir, &[keys.signer("ts"), keys.signer("snap")], now).unwrap();
    std::fs::read(dir.join("metadata/1.root.json")).unwrap()
}

/// Signs the tree with the library (for expired or back-dated metadata);
/// `keys` name the signing keys; lifetimes in seconds.
pub fn sign_with(
    tree: &Path,
    keys: &Keys,
    names: &[&str],
    now: i64,
    timestamp_lifetime: i64,
) -> rustup_verify::release::SignReport {
    rustup_verify::release::sign(&rustup_verify::release::SignOptions {
        tree: tree.to_path_buf(),
        keys: names.iter().map(|n| keys.signer(n)).collect(),
        online: vec![keys.signer("ts"), keys.signer("snap")],
        timestamp_lifetime: Some(timestamp_lifetime),
        now,
        ..Default::default()
    })
    .unwrap()
}

/// Every file under `dir` with its bytes.
pub fn tree_bytes(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(base).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// A static HTTP server for a directory on 127.0.0.1 (the mirror). It
/// stops when dropped, and by itself after `lifetime`. The directory it
/// serves can be switched (`serve_from`), and every path requested is
/// logged.
pub struct StaticServer {
    addr: SocketAddr,
    root: Arc<Mutex<PathBuf>>,
    log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl StaticServer {
    /// Starts serving `root`.
    pub fn start(root: &Path, lifetime: Duration) -> StaticServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let root = Arc::new(Mutex::new(root.to_path_buf()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, l, s) = (root.clone(), log.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (r, l) = (r.clone(), l.clone());
                std::thread::spawn(move || serve_one(stream, &r, &l));
            }
        });
        // Stops by itself after `lifetime`.
        let s = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(lifetime);
            wake(&s, addr);
        });
        StaticServer {
            addr,
            root,
            log,
            stop,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves another directory from now on.
    pub fn serve_from(&self, root: &Path) {
        *self.root.lock().unwrap() = root.to_path_buf();
    }

    /// Paths requested so far.
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        wake(&self.stop, self.addr);
    }
}

/// Sets the stop flag and wakes the blocking accept.
fn wake(stop: &AtomicBool, addr: SocketAddr) {
    stop.store(true, Ordering::SeqCst);
    let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
}

fn serve_one(mut stream: TcpStream, root: &Mutex<PathBuf>, log: &Mutex<Vec<String>>) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16384 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let path = text
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/')
        .split('?')
        .next()
        .unwrap_or("")
        .to_string();
    log.lock().unwrap().push(path.clone());
    let base = root.lock().unwrap().clone();
    let file = base.join(&path);
    let ok = !path.split('/').any(|p| p == ".." || p.is_empty()) && file.is_file();
    if !ok {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    let Ok(mut f) = std::fs::File::open(&file) else {
        return;
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = stream.write_all(
        format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    let _ = std::io::copy(&mut f, &mut stream);
}

/// A rustup binary copied into `cargo_home/bin/rustup` (rustup self
/// update only works on a rustup installed in CARGO_HOME; the machine's
/// own rustup is never touched).
pub fn install_rustup_copy(cargo_home: &Path) -> Option<PathBuf> {
    let found = find_in_path("rustup")?;
    let bin = cargo_home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let dest = bin.join("rustup");
    std::fs::copy(&found, &dest).unwrap();
    Some(dest)
}

/// The first `name` on PATH.
pub fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The version of a rustup binary (`rustup 1.29.0 (...)` → `1.29.0`).
pub fn rustup_version(rustup: &Path) -> String {
    let out = std::process::Command::new(rustup)
        .arg("--version")
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}
