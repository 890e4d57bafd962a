//! `stockade explain`: the resolved policy, every rule with its origin, and
//! how each is enforced on this platform. Runs nothing.

use crate::args::ExplainArgs;
use crate::output::{print_json, size};
use serde::Serialize;
use std::fmt::Write as _;
use stockade::policy::{FsRule, PolicyLocation, ResolvedPolicy, RuleKind};
use stockade::{EnforcementPlan, Error, Loaded};

#[derive(Serialize)]
struct Explanation<'a> {
    policy_file: &'a PolicyLocation,
    policy: &'a ResolvedPolicy,
    plan: &'a EnforcementPlan,
}

pub fn main(args: ExplainArgs) -> Result<i32, Error> {
    let loaded = stockade::load(&args.policy.request())?;
    let plan = stockade::plan(&loaded.policy, &[]);
    if args.json {
        print_json(&Explanation {
            policy_file: &loaded.location,
            policy: &loaded.policy,
            plan: &plan,
        });
    } else {
        crate::output::print(&render(&loaded, &plan));
    }
    Ok(0)
}

/// The human-readable explanation.
pub fn render(loaded: &Loaded, plan: &EnforcementPlan) -> String {
    let p = &loaded.policy;
    let mut out = String::new();
    let _ = writeln!(out, "profile     {}  ({})", p.profile, p.chain.join(" -> "));
    let _ = writeln!(out, "policy      {}", location(&loaded.location));
    let _ = writeln!(out, "cwd         {}", p.cwd.display());
    let _ = writeln!(
        out,
        "\nfilesystem  (longest matching path wins; on a tie none > read > write; no rule: none)"
    );
    let width = p
        .rules
        .iter()
        .map(|r| r.path.as_os_str().len())
        .max()
        .unwrap_or(0)
        .min(60);
    for rule in &p.rules {
        let path = format!("{}{}", rule.path.display(), tag(rule));
        let _ = writeln!(
            out,
            "  {:<5}  {path:<width$}  {}",
            rule.access.as_str(),
            rule.origin,
            width = width + 2
        );
    }
    for glob in &p.deny_globs {
        let except = if glob.except.is_empty() {
            String::new()
        } else {
            format!(
                " (except {})",
                glob.except
                    .iter()
                    .map(|e| e.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let _ = writeln!(
            out,
            "  none   glob {}{except}  {}",
            glob.pattern, glob.origin
        );
    }
    let net = &p.network;
    let _ = writeln!(
        out,
        "\nnetwork     {}  ({})",
        serde_plain(&net.mode),
        net.origin
    );
    if !net.allow.is_empty() || !net.deny.is_empty() {
        let _ = writeln!(out, "  allow     {}", join(net.allow.iter()));
        let _ = writeln!(out, "  deny      {}", join(net.deny.iter()));
    }
    if !net.allow_ranges.is_empty() {
        let _ = writeln!(out, "  ranges    {}", join(net.allow_ranges.iter()));
    }
    let _ = writeln!(
        out,
        "  local     {}",
        if net.allow_local_binding {
            "may bind its own loopback"
        } else {
            "no loopback binding"
        }
    );
    if !net.unix_sockets.is_empty() {
        let sockets: Vec<_> = net
            .unix_sockets
            .iter()
            .map(|s| s.display().to_string())
            .collect();
        let _ = writeln!(out, "  sockets   {}", sockets.join(" "));
    }
    let _ = writeln!(
        out,
        "protect     {}; git {}",
        p.protect.names.join(" "),
        serde_plain(&p.protect.git)
    );
    let env = &p.env;
    let _ = writeln!(
        out,
        "env         inherit {}; keep [{}]; set [{}]; strip [{}]",
        serde_plain(&env.inherit),
        env.keep.join(" "),
        env.set.keys().cloned().collect::<Vec<_>>().join(" "),
        join(env.strip.iter()),
    );
    let l = &p.limits;
    let _ = writeln!(
        out,
        "limits      timeout {}; max_processes {}; max_memory {}; max_output {}",
        l.timeout
            .map_or("none".into(), |t| format!("{}s", t.as_secs_f64())),
        l.max_processes.map_or("none".into(), |n| n.to_string()),
        l.max_memory.map_or("none".into(), size),
        size(l.max_output),
    );
    if !p.notes.is_empty() {
        let _ = writeln!(out, "\nnotes");
        for note in &p.notes {
            match &note.path {
                Some(path) => writeln!(out, "  - {}: {}", path.display(), note.message),
                None => writeln!(out, "  - {}", note.message),
            }
            .ok();
        }
    }
    let _ = writeln!(out, "\nenforcement on {}", serde_plain(&plan.platform));
    for item in &plan.items {
        let _ = writeln!(
            out,
            "  {:<40} {} ({})",
            item.rule,
            item.mechanism,
            serde_plain(&item.requirement)
        );
    }
    for blocker in &plan.blockers {
        let _ = writeln!(out, "  blocked: {}: {}", blocker.rule, blocker.reason);
        let _ = writeln!(out, "  hint: {}", blocker.hint);
    }
    if plan.ready() {
        let _ = writeln!(out, "  every rule is enforced exactly");
    }
    out
}

fn location(location: &PolicyLocation) -> String {
    match location {
        PolicyLocation::Explicit(p) => format!("{}  (--config)", p.display()),
        PolicyLocation::Discovered(p) => {
            format!("{}  (found from the working directory)", p.display())
        }
        PolicyLocation::UserConfig(p) => format!("{}  (user config)", p.display()),
        PolicyLocation::BuiltIn => "none: built-in profiles only".into(),
    }
}

/// A short tag for rules whose kind matters to the reader.
fn tag(rule: &FsRule) -> String {
    let kind = match &rule.kind {
        RuleKind::Path | RuleKind::HomeChild => None,
        RuleKind::PrivateTmp => Some("private tmp".to_string()),
        RuleKind::Protected { .. } => Some("protected".into()),
        RuleKind::GitCommit => Some("git commit".into()),
        RuleKind::GitControl => Some("git control".into()),
        RuleKind::PolicyFile => Some("policy file".into()),
        RuleKind::SshConfig { directive } => Some(format!("ssh {directive}")),
    };
    let missing = (!rule.exists).then_some("missing");
    let tags: Vec<String> = kind.into_iter().chain(missing.map(String::from)).collect();
    if tags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", tags.join(", "))
    }
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
}

/// The serde name of a unit enum variant (`off`, `read-only`).
fn serde_plain<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".into(),
    }
}
