//! The `synthmarket` command: parse, run, map errors to exit codes
//! (0 success, 1 internal failure, 2 bad input or usage).

use clap::Parser;

mod cli;

fn main() {
    let cli = cli::Cli::parse();
    cli::init_logging(cli.quiet, cli.verbose);
    if let Err(err) = cli::run(cli) {
        let mut msg = format!("error: {err}");
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            let text = s.to_string();
            if !msg.contains(&text) {
                msg.push_str(&format!("\n  caused by: {text}"));
            }
            source = s.source();
        }
        eprintln!("{msg}");
        std::process::exit(err.exit_code());
    }
}
