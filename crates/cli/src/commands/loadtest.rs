use crate::args::LoadtestArgs;

pub fn run(args: LoadtestArgs) -> anyhow::Result<()> {
    anyhow::bail!(
        "loadtest is not written yet ({} nodes given)",
        args.nodes.len()
    )
}
