//! Secrets from systemd credentials: the keys that hold secrets and the
//! figment layer that reads them from `$CREDENTIALS_DIRECTORY`.

use std::path::{Path, PathBuf};

use figment::Figment;

/// The configuration keys that hold secrets. Each can also come from a
/// systemd credential file of that name in `$CREDENTIALS_DIRECTORY`
/// (`LoadCredential=tradier.token:/etc/ivcd/tradier.token`), which wins over
/// the configuration file and loses to the `IVCD_*` environment.
pub const SECRET_KEYS: [&str; 6] = [
    "tradier.token",
    "alpha_vantage.api_key",
    "alerts.email.password",
    "alerts.slack.webhook_url",
    "alerts.webhook.secret",
    "alerts.discord.webhook_url",
];

/// Merges the secrets found in a systemd credentials directory. A channel's
/// secret is merged only when that channel is configured, so a credential
/// never conjures up half a channel.
///
/// # Errors
/// [`CredentialError`] naming a credential file that exists but cannot be read.
pub(super) fn merge_credentials(mut figment: Figment, dir: &Path) -> Result<Figment, CredentialError> {
    for key in SECRET_KEYS {
        let path = dir.join(key);
        if !path.is_file() {
            continue;
        }
        let section = key.rsplit_once('.').map_or("", |(section, _)| section);
        if section.starts_with("alerts.") && !figment.contains(section) {
            continue;
        }
        let value = std::fs::read_to_string(&path)
            .map_err(|error| CredentialError { path: path.display().to_string(), error })?;
        let value = value.trim_end_matches(['\n', '\r']).to_owned();
        figment = figment.merge(Credential { key, value, path });
    }
    Ok(figment)
}

/// A systemd credential file that exists but cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("systemd credential {path}: {error}")]
pub struct CredentialError {
    /// The file.
    pub path: String,
    /// Why it cannot be read.
    pub error: std::io::Error,
}

/// The name of a systemd credential's layer in the figment (its metadata).
pub(super) const CREDENTIAL: &str = "systemd credential";

/// One secret from a systemd credential file, as a figment layer named
/// [`CREDENTIAL`] with the file as its source (for [`Config::secret_sources`]).
struct Credential {
    key: &'static str,
    value: String,
    path: PathBuf,
}

impl figment::Provider for Credential {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::from(CREDENTIAL, self.path.as_path())
    }

    fn data(&self) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        figment::providers::Serialized::global(self.key, &self.value).data()
    }
}
