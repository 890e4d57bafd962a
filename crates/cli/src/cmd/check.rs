//! `stockade check`: what this machine offers and, for each built-in
//! profile, whether it can be enforced here — with a hint for every gap.

use crate::args::CheckArgs;
use crate::output::print_json;
use std::fmt::Write as _;
use stockade::{CheckReport, Error, FactStatus};

pub fn main(args: CheckArgs) -> Result<i32, Error> {
    let report = stockade::check();
    if args.json {
        print_json(&report);
    } else {
        crate::output::print(&render(&report));
    }
    Ok(0)
}

fn render(report: &CheckReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "machine");
    for fact in &report.facts {
        let status = match fact.status {
            FactStatus::Ok => "ok",
            FactStatus::Missing => "MISSING",
            FactStatus::Restricted => "RESTRICTED",
            FactStatus::Info => "info",
        };
        let _ = writeln!(
            out,
            "  {status:<10}  {:<16} {}",
            fact.mechanism, fact.detail
        );
    }
    if !report.hints.is_empty() {
        let _ = writeln!(out, "\nto fix");
        for hint in &report.hints {
            let _ = writeln!(out, "  - {}: {}", hint.mechanism, hint.problem);
            let _ = writeln!(out, "    hint: {}", hint.fix);
        }
    }
    let _ = writeln!(out, "\nprofiles");
    for verdict in &report.profiles {
        let state = if verdict.enforceable {
            "enforceable here"
        } else {
            "NOT enforceable here"
        };
        let _ = writeln!(out, "  {:<10}  {state}", verdict.profile);
        for need in &verdict.needs {
            let mark = if need.available { "ok" } else { "missing" };
            let _ = writeln!(out, "      {mark:<8} {}: {}", need.mechanism, need.why);
        }
        for blocker in &verdict.blockers {
            let _ = writeln!(out, "      blocked: {}", blocker.reason);
            let _ = writeln!(out, "      hint: {}", blocker.hint);
        }
    }
    out
}
