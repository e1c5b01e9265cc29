use anyhow::Context;
use pointerprint_server::{Config, hash_key, new_key};
use pointerprint_storage::Role;

use crate::args::{KeysCommand, RoleArg};

pub fn run(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create { data, role, name } => {
            let role = match role {
                RoleArg::Ingest => Role::Ingest,
                RoleArg::Secret => Role::Secret,
                RoleArg::Admin => Role::Admin,
            };
            let config = Config {
                data_dir: data,
                ..Config::load(None)?
            };
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(async {
                let store = pointerprint_server::startup::open_store(&config).await?;
                let key = new_key(role);
                store.create_key(&name, role, &hash_key(&key)).await?;
                println!("{key}");
                anyhow::Ok(())
            })
        }
    }
}
