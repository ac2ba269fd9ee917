//! `oxiborg config`

use oxiborg_cli_args::ConfigArgs;

use super::Ctx;

pub fn run(_ctx: &Ctx, _args: &ConfigArgs) -> anyhow::Result<u8> {
    Err(crate::not_yet("config").into())
}
