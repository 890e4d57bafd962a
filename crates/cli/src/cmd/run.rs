//! `stockade run`: resolve, plan, and run the command only if every rule
//! can be enforced exactly (or the user waived exactly what cannot).

use crate::args::RunArgs;
use crate::output::print_json;
use stockade::policy::{PolicyError, parse_duration};
use stockade::{Error, RunRequest};

pub fn main(args: RunArgs) -> Result<i32, Error> {
    let timeout = args
        .timeout
        .as_ref()
        .map(|t| {
            parse_duration(t).map_err(|message| {
                Error::Policy(PolicyError::InvalidFlag {
                    flag: "--timeout".into(),
                    value: t.clone(),
                    message,
                    hint: "write a number with a unit: ms, s, m, h or d, e.g. --timeout 30s".into(),
                })
            })
        })
        .transpose()?;
    let loaded = stockade::load(&args.policy.request())?;
    let request = RunRequest {
        argv: args.command.clone(),
        timeout,
        allow_weaker: args.allow_weaker.clone(),
        ..RunRequest::default()
    };
    let record = stockade::run(&loaded, &request)?;
    if !record.enforcement.waived.is_empty() && !args.quiet {
        let names: Vec<&str> = record
            .enforcement
            .waived
            .iter()
            .map(|b| b.rule.as_str())
            .collect();
        eprintln!(
            "stockade: warning: ran WITHOUT enforcing: {}",
            names.join("; ")
        );
    }
    if let Some(summary) = record.denial_summary().filter(|_| !args.quiet) {
        eprintln!("{summary}");
    }
    if args.json {
        print_json(&record);
    }
    Ok(record.exit_code)
}
