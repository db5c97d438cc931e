//! The `synthmarket` command: parse, run, map errors to exit codes
//! (0 success, 1 internal failure, 2 bad input or usage).

use clap::Parser;

mod cli;

fn main() {
    let cli = cli::Cli::parse();
    cli::init_logging(cli.quiet, cli.verbose);
    if let Err(err) = cli::run(cli) {
        eprintln!("error: {}", err.report());
        std::process::exit(err.exit_code());
    }
}
