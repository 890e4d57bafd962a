//! stockade's benchmark harness. Every figure is measured here, side by
//! side in one run, and reported as a ratio or an absolute against its SPEC
//! target — never asserted in a test.
//!
//! Usage: `stockade-bench [--iterations N] [--stockade PATH] [--only GROUP]`
//! where GROUP is `policy`, `run`, `proxy` or `sessions`.

mod policy;
mod proxy;
mod run;
mod sessions;
mod stats;

use std::path::PathBuf;

struct Options {
    iterations: usize,
    stockade: PathBuf,
    /// Only this group of figures, if set.
    only: Option<String>,
}

/// The groups of figures, by name.
const GROUPS: [&str; 4] = ["policy", "run", "proxy", "sessions"];

fn options() -> Result<Options, String> {
    let mut iterations = 200;
    let mut stockade = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name("stockade");
    let mut only = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--iterations" => {
                iterations = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--iterations needs a number")?
            }
            "--stockade" => {
                stockade = args
                    .next()
                    .map(PathBuf::from)
                    .ok_or("--stockade needs a path")?
            }
            "--only" => {
                let group = args.next().filter(|g| GROUPS.contains(&g.as_str()));
                only = Some(group.ok_or("--only needs one of policy, run, proxy, sessions")?)
            }
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(Options {
        iterations,
        stockade,
        only,
    })
}

fn main() {
    // The library's sandboxes are launched through `--stockade`, but should
    // one ever be launched through this program, this is where it starts.
    stockade::helper_if_requested();
    run::peak_rss_probe_if_requested();
    proxy::bulk_client_if_requested();
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "stockade-bench: error: {e}\nhint: stockade-bench [--iterations N] [--stockade PATH] [--only policy|run|proxy|sessions]"
            );
            std::process::exit(2);
        }
    };
    println!(
        "stockade benchmark ({} iterations per figure)\n",
        options.iterations
    );
    println!(
        "{:<58} {:>12} {:>12} {:>10}",
        "figure", "median", "target", "verdict"
    );
    let wanted = |group: &str| options.only.as_deref().is_none_or(|o| o == group);
    let (n, stockade) = (options.iterations, &options.stockade);
    let mut figures = Vec::new();
    if wanted("policy") {
        figures.extend(policy::figures(n, stockade));
    }
    if wanted("run") {
        figures.extend(run::figures(n, stockade));
    }
    if wanted("proxy") {
        figures.extend(proxy::figures(n, stockade));
    }
    if wanted("sessions") {
        figures.extend(sessions::figures(n, stockade));
    }
    let mut failed = 0;
    for figure in &figures {
        println!("{figure}");
        failed += usize::from(!figure.meets_target());
    }
    let targeted = figures.iter().filter(|f| f.has_target()).count();
    println!(
        "\n{} of {targeted} figures meet their targets",
        targeted - failed
    );
}
