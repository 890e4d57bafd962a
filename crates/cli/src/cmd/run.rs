//! `stockade run`: resolve, plan, and run the command only if every rule
//! can be enforced exactly.

use crate::args::RunArgs;
use stockade::Error;

pub fn main(args: RunArgs) -> Result<i32, Error> {
    if let Some(timeout) = &args.timeout {
        stockade::policy::parse_duration(timeout).map_err(|message| {
            Error::Policy(stockade::policy::PolicyError::InvalidFlag {
                flag: "--timeout".into(),
                value: timeout.clone(),
                message,
                hint: "write a number with a unit: ms, s, m, h or d, e.g. --timeout 30s".into(),
            })
        })?;
    }
    let loaded = stockade::load(&args.policy.request())?;
    let plan = stockade::plan(&loaded.policy);
    match plan.blockers.first() {
        Some(blocker) => Err(Error::Unenforceable {
            rule: if blocker.rule == "*" {
                "the policy".into()
            } else {
                blocker.rule.clone()
            },
            reason: blocker.reason.clone(),
            hint: blocker.hint.clone(),
        }),
        None => Err(Error::Unenforceable {
            rule: "the policy".into(),
            reason: "no backend on this platform yet".into(),
            hint: "run 'stockade check' for what this machine offers".into(),
        }),
    }
}
