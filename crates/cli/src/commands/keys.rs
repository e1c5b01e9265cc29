use anyhow::Context;
use pointerprint_server::app::keys::{hash_token, new_key};
use pointerprint_storage::crypto::create_key_file;
use pointerprint_storage::{Cipher, Role};

use super::with_store;
use crate::args::{KeysCommand, RoleArg};

pub fn run(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create { data, role, name } => {
            let role = match role {
                RoleArg::Ingest => Role::Ingest,
                RoleArg::Secret => Role::Secret,
                RoleArg::Admin => Role::Admin,
            };
            with_store(data, async |_, store| {
                let key = new_key(role);
                store.create_key(&name, role, &hash_token(&key)).await?;
                say!("{key}")?;
                anyhow::Ok(())
            })
        }
        KeysCommand::RotateEncryption { data } => {
            with_store(data, async |config, store| {
                let (key, cipher) = Cipher::generate();
                // The new key is on disk before any data depends on it.
                let path = config.key_path();
                let staged = path.with_extension("new");
                create_key_file(&staged, &key)?;
                let rotated = match store.rotate(cipher).await {
                    Ok(rotated) => rotated,
                    Err(e) => {
                        let _ = std::fs::remove_file(&staged);
                        return Err(e.into());
                    }
                };
                rotated.close().await;
                std::fs::rename(&staged, &path).with_context(|| {
                    format!(
                        "the data is now under the key in {}; move it to {}",
                        staged.display(),
                        path.display()
                    )
                })?;
                say!(
                    "every stored event and model is now encrypted under the new key in {}",
                    path.display()
                )?;
                anyhow::Ok(())
            })
        }
    }
}
