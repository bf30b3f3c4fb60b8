//! Checks on the repository itself: no key or secret is ever tracked, so a clone never
//! carries a signing key that every install would share.

use std::path::Path;
use std::process::Command;

/// File names that hold key material or secrets.
fn looks_secret(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    name.ends_with(".keys.json")
        || name.ends_with(".pem")
        || name.ends_with(".key")
        || name.ends_with(".p12")
        || name.ends_with(".pfx")
        || name.ends_with(".jks")
        || name.starts_with("id_rsa")
        || name.starts_with("id_ed25519")
        || name == ".env"
        || name.starts_with(".env.")
        || name == "parkgraph.toml"
}

/// Contents that are key material whatever the file is called.
fn holds_key_material(text: &str) -> bool {
    text.contains("PRIVATE KEY-----") || (text.contains("\"secret\"") && text.contains("\"kid\""))
}

fn tracked_files(root: &Path) -> Vec<String> {
    let output = Command::new("git").arg("-C").arg(root).args(["ls-files", "-z"]).output().expect("git runs");
    assert!(output.status.success(), "git ls-files: {}", String::from_utf8_lossy(&output.stderr));
    output
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

#[test]
fn no_key_or_secret_file_is_tracked() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !root.join(".git").exists() {
        eprintln!("not a git checkout: nothing to check");
        return;
    }
    let files = tracked_files(root);
    assert!(files.iter().any(|f| f == "Cargo.toml"), "git ls-files lists the tree: {files:?}");
    let named: Vec<&String> = files.iter().filter(|f| looks_secret(f)).collect();
    assert!(named.is_empty(), "key or secret files are tracked; `git rm --cached` them and rotate the keys: {named:?}");
    let holding: Vec<&String> = files
        .iter()
        .filter(|f| std::fs::read_to_string(root.join(f)).is_ok_and(|text| holds_key_material(&text)))
        .filter(|f| !f.starts_with("tests/"))
        .collect();
    assert!(holding.is_empty(), "tracked files hold key material: {holding:?}");
}

#[test]
fn the_secret_patterns_recognise_key_files() {
    for name in ["parkgraph.keys.json", "deploy/jwt.pem", "signing.key", ".env", "a/b/registry.keys.json"] {
        assert!(looks_secret(name), "{name}");
    }
    for name in ["Cargo.toml", "src/keys.rs", "README.md", "tests/security.rs"] {
        assert!(!looks_secret(name), "{name}");
    }
    assert!(holds_key_material("{\n  \"kid\": \"dev-1\",\n  \"algorithm\": \"HS256\",\n  \"secret\": \"abc\"\n}"));
    assert!(holds_key_material("-----BEGIN PRIVATE KEY-----\nMC4CAQ"));
    assert!(!holds_key_material("fn main() {}"));
}
