//! stockade's benchmark harness. Every figure is measured here, side by
//! side in one run, and reported as a ratio or an absolute against its SPEC
//! target — never asserted in a test.
//!
//! Usage: `stockade-bench [--iterations N] [--stockade PATH]`

mod policy;
mod proxy;
mod run;
mod stats;

use std::path::PathBuf;

struct Options {
    iterations: usize,
    stockade: PathBuf,
}

fn options() -> Result<Options, String> {
    let mut iterations = 200;
    let mut stockade = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name("stockade");
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
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(Options {
        iterations,
        stockade,
    })
}

fn main() {
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "stockade-bench: error: {e}\nhint: stockade-bench [--iterations N] [--stockade PATH]"
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
    let mut figures = policy::figures(options.iterations, &options.stockade);
    figures.extend(run::figures(options.iterations, &options.stockade));
    figures.extend(proxy::figures(options.iterations, &options.stockade));
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
