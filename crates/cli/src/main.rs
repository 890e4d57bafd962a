//! The `stockade` command: parses arguments and dispatches to one file per
//! subcommand, each a short chain over the library.

mod args;
mod cmd;
mod output;

use args::{Cli, Command};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    stockade::helper_if_requested();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                // Usage errors are stockade's failures, not the command's:
                // 125, so they cannot be mistaken for the command's status.
                _ => stockade::EXIT_SETUP_FAILURE,
            };
            let _ = e.print();
            if code != 0 {
                eprintln!(
                    "hint: run 'stockade --help' or 'stockade <subcommand> --help' for the usage"
                );
            }
            return exit(code);
        }
    };
    let result = match cli.command {
        Command::Run(args) => cmd::run::main(args),
        Command::Explain(args) => cmd::explain::main(args),
        Command::Check(args) => cmd::check::main(args),
        Command::Proxy(args) => cmd::proxy::main(args),
        Command::Serve(args) => cmd::serve::main(args),
        Command::Shell(args) => cmd::shell::main(args),
    };
    match result {
        Ok(code) => exit(code),
        Err(e) => {
            output::print_error(&e);
            exit(e.exit_code())
        }
    }
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(stockade::EXIT_SETUP_FAILURE as u8))
}
