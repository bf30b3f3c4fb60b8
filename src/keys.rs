//! Building the key set from configuration, and the development key set that the
//! embedded default generates beside its database so `token issue` and `serve` work
//! with no setup.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken_keys::{Algorithm, DecodingKey, EncodingKey};
use parkgraph_api::auth::{Key, KeySet};
use parkgraph_persistence::db::Backend;
use serde::{Deserialize, Serialize};

use crate::anyhow_free::Failure;
use crate::config::{AuthConfig, KeyConfig};

/// Re-export of the JWT crate's key types, through the API crate.
mod jsonwebtoken_keys {
    pub use parkgraph_api::auth::jwt::{Algorithm, DecodingKey, EncodingKey};
}

/// The development key file: one HMAC key, generated once.
#[derive(Serialize, Deserialize)]
struct DevKey {
    kid: String,
    algorithm: String,
    secret: String,
}

/// The file beside a SQLite database that holds its development key set.
pub fn dev_key_path(database_url: &str) -> Option<PathBuf> {
    let path = database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    let path = Path::new(path);
    let stem = path.file_stem()?.to_string_lossy().to_string();
    Some(path.with_file_name(format!("{stem}.keys.json")))
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure(format!("cannot read {what} {}: {e}", path.display())))
}

fn key(config: &KeyConfig) -> Result<Key, Failure> {
    let algorithm: Algorithm = config
        .algorithm
        .parse()
        .map_err(|_| Failure(format!("key {:?}: unknown algorithm {:?}", config.kid, config.algorithm)))?;
    let bad = |what: &str| Failure(format!("key {:?} ({:?}): {what}", config.kid, config.algorithm));
    match algorithm {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            let secret = match (&config.secret, &config.secret_file) {
                (Some(secret), _) => secret.0.clone().into_bytes(),
                (None, Some(file)) => {
                    warn_if_exposed(file, "secret file");
                    let mut bytes = read(file, "secret file")?;
                    while bytes.last().is_some_and(|b| b.is_ascii_whitespace()) {
                        bytes.pop();
                    }
                    bytes
                }
                (None, None) => return Err(bad("an HMAC key needs `secret` or `secret_file`")),
            };
            if secret.len() < 32 {
                return Err(bad("an HMAC secret must be at least 32 bytes"));
            }
            Ok(Key::hmac(&config.kid, algorithm, &secret))
        }
        _ => {
            let public = config.public_key_file.as_ref().ok_or_else(|| bad("needs `public_key_file` (PEM)"))?;
            let public = read(public, "public key")?;
            let decoding = match algorithm {
                Algorithm::EdDSA => DecodingKey::from_ed_pem(&public),
                Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(&public),
                _ => DecodingKey::from_rsa_pem(&public),
            }
            .map_err(|e| bad(&format!("public key is not valid PEM: {e}")))?;
            let encoding = match &config.private_key_file {
                Some(file) => {
                    warn_if_exposed(file, "private key file");
                    let private = read(file, "private key")?;
                    Some(
                        match algorithm {
                            Algorithm::EdDSA => EncodingKey::from_ed_pem(&private),
                            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(&private),
                            _ => EncodingKey::from_rsa_pem(&private),
                        }
                        .map_err(|e| bad(&format!("private key is not valid PEM: {e}")))?,
                    )
                }
                None => None,
            };
            Ok(Key { kid: config.kid.clone(), algorithm, encoding, decoding })
        }
    }
}

fn dev_key(path: &Path) -> Result<Key, Failure> {
    if !path.exists() {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| Failure(format!("cannot generate a development key: {e}")))?;
        let mut suffix = [0u8; 4];
        getrandom::fill(&mut suffix).map_err(|e| Failure(format!("cannot generate a development key: {e}")))?;
        let dev = DevKey {
            kid: format!(
                "dev-{}-{}",
                chrono::Utc::now().format("%Y%m%d%H%M%S"),
                suffix.iter().map(|b| format!("{b:02x}")).collect::<String>()
            ),
            algorithm: "HS256".into(),
            secret: STANDARD.encode(secret),
        };
        let json = serde_json::to_string_pretty(&dev).map_err(|e| Failure(e.to_string()))?;
        write_private(path, json.as_bytes())?;
        tracing::warn!(
            file = %path.display(),
            kid = %dev.kid,
            "generated a development key set beside the database (readable by its owner only); configure [auth] keys for production"
        );
    }
    warn_if_exposed(path, "development key file");
    let dev: DevKey = serde_json::from_slice(&read(path, "development key file")?)
        .map_err(|e| Failure(format!("{} is not a ParkGraph key file: {e}", path.display())))?;
    let secret = STANDARD.decode(dev.secret).map_err(|e| Failure(format!("{}: {e}", path.display())))?;
    Ok(Key::hmac(&dev.kid, Algorithm::HS256, &secret))
}

/// Writes a new secret file that only its owner can read or write (0600), refusing to
/// overwrite one that appeared meanwhile.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))
}

/// True when a file's permissions let its group or other users read it.
pub fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o044 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Logs a warning when a file holding key material is readable by other users.
fn warn_if_exposed(path: &Path, what: &str) {
    if readable_by_others(path) {
        tracing::warn!(
            file = %path.display(),
            "the {what} is readable by other users of this machine; restrict it with `chmod 600`"
        );
    }
}

/// The key set of a configuration.
pub fn key_set(auth: &AuthConfig, database_url: &str) -> Result<KeySet, Failure> {
    let mut keys = auth.keys.iter().map(key).collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty()
        && auth.dev_keys
        && Backend::of_url(database_url)? == Backend::Sqlite
        && let Some(path) = dev_key_path(database_url)
    {
        keys.push(dev_key(&path)?);
    }
    if keys.is_empty() {
        tracing::warn!("no keys configured: tokens are refused; configure [auth] keys to issue and accept them");
    }
    let signing = match &auth.signing_kid {
        Some(kid) => {
            let key = keys
                .iter()
                .find(|k| &k.kid == kid)
                .ok_or_else(|| Failure(format!("signing_kid {kid:?} names no configured key")))?;
            Some(key.kid.clone())
        }
        None => keys.iter().find(|k| k.encoding.is_some()).map(|k| k.kid.clone()),
    };
    Ok(KeySet::new(&auth.issuer, &auth.audience, auth.leeway_seconds, signing.as_deref(), keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dev_key_file_sits_beside_the_database() {
        assert_eq!(dev_key_path("sqlite://parkgraph.db?mode=rwc"), Some(PathBuf::from("parkgraph.keys.json")));
        assert_eq!(dev_key_path("sqlite:///var/lib/pg/x.db"), Some(PathBuf::from("/var/lib/pg/x.keys.json")));
        assert_eq!(dev_key_path("sqlite::memory:"), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_generated_key_file_is_readable_by_its_owner_only_and_each_install_gets_its_own_kid() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("parkgraph-devkey-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("dir");
        let first = dir.join("a.keys.json");
        let second = dir.join("b.keys.json");
        let a = dev_key(&first).expect("generates");
        let b = dev_key(&second).expect("generates");
        let mode = std::fs::metadata(&first).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "key files are written 0600, found {mode:o}");
        assert!(!readable_by_others(&first));
        assert_ne!(a.kid, b.kid, "a new install gets a new kid");
        assert_eq!(dev_key(&first).expect("reads again").kid, a.kid, "an existing key file is reused");
        std::fs::set_permissions(&first, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(readable_by_others(&first), "a 0644 key file is flagged");
    }
}
