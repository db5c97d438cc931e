//! The `synthmarket` command: parse, run, map errors to exit codes
//! (0 success, 1 internal failure, 2 bad input or usage).

use clap::Parser;

mod cli;

/// On SIGINT or SIGTERM: remove every temporary file, lock and empty
/// directory the run made (synthmarket::io::cleanup), and exit with
/// 128 + the signal (130, 143) at once. signal-hook (the Rust ecosystem's
/// standard signal crate) runs the handler on its own thread, where
/// removing files is allowed (a raw signal handler may not allocate).
#[cfg(unix)]
fn stop_cleanly_on_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let removed = synthmarket::io::cleanup::remove_all();
            eprintln!("stopped by signal {sig}: removed {removed} temporary file(s)");
            std::process::exit(128 + sig);
        }
    });
}

#[cfg(not(unix))]
fn stop_cleanly_on_signals() {}

fn main() {
    stop_cleanly_on_signals();
    let cli = cli::Cli::parse();
    cli::init_logging(cli.quiet, cli.verbose);
    if let Err(err) = cli::run(cli) {
        eprintln!("error: {}", err.report());
        std::process::exit(err.exit_code());
    }
}
