use std::io::BufRead;

use anyhow::{Context, bail};
use pointerprint_server::app::accounts::{check_password_rules, hash_password};
use pointerprint_storage::{AccountKind, StorageError};

use super::with_store;
use crate::args::AdminCommand;

pub fn run(command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Create {
            data,
            username,
            password_stdin,
        } => {
            if username.is_empty()
                || username.len() > 64
                || username
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace())
            {
                bail!("--username must be 1 to 64 characters without spaces");
            }
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading the password from standard input")?;
                line.trim_end_matches(['\n', '\r']).to_string()
            } else {
                let password = rpassword::prompt_password(format!("Password for {username}: "))
                    .context("reading the password")?;
                let again =
                    rpassword::prompt_password("Again: ").context("reading the password")?;
                if password != again {
                    bail!("the two passwords differ; nothing was created");
                }
                password
            };
            check_password_rules(&password).map_err(anyhow::Error::msg)?;
            let hash = hash_password(&password);
            with_store(data, async |_, store| {
                match store
                    .create_account(AccountKind::Admin, &username, &hash, store.now_ms())
                    .await
                {
                    Ok(_) => {}
                    Err(StorageError::Conflict(_)) => {
                        bail!("an administrator named {username} exists already")
                    }
                    Err(e) => return Err(e.into()),
                }
                say!("administrator {username} created; sign in at /dashboard")?;
                anyhow::Ok(())
            })
        }
    }
}
