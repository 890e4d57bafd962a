//! Command-line arguments (SPEC section 2). Names and flags are part of the
//! product contract.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use stockade::PolicyRequest;
use stockade::policy::Overrides;

/// Run commands in an operating-system-enforced sandbox described by one
/// portable policy.
#[derive(Debug, Parser)]
#[command(name = "stockade", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command in the sandbox
    Run(RunArgs),
    /// Print the resolved policy and how each rule is enforced here; runs nothing
    Explain(ExplainArgs),
    /// Print what this machine can enforce, with hints to fix what is missing
    Check(CheckArgs),
    /// Run the egress proxy on its own (HTTP, and SOCKS5 with --socks)
    Proxy(ProxyArgs),
    /// Serve MCP on stdin/stdout: tools to run commands and sessions in the sandbox
    Serve(ServeArgs),
    /// An interactive shell ($SHELL, or -- COMMAND) on a terminal inside the sandbox
    Shell(ShellArgs),
}

/// POLICY OPTIONS, shared by every subcommand that takes a policy.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Built-in `read-only`, `workspace` (default), `full`, or a profile from the policy file
    #[arg(short = 'p', long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Policy file (default: .stockade.toml walking up from the cwd, then the user config file)
    #[arg(short = 'c', long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Working directory of the command (`:cwd` in policies)
    #[arg(short = 'C', long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// Add a writable root (repeatable)
    #[arg(short = 'w', long = "writable", value_name = "PATH")]
    pub writable: Vec<String>,
    /// Add a readable root (repeatable)
    #[arg(short = 'r', long = "readable", value_name = "PATH")]
    pub readable: Vec<String>,
    /// Make a path or glob unreadable and unwritable (repeatable)
    #[arg(long = "deny", value_name = "PATH_OR_GLOB")]
    pub deny: Vec<String>,
    /// Network mode: off, proxy or full (default off)
    #[arg(short = 'n', long, value_name = "MODE")]
    pub network: Option<String>,
    /// Allow a domain through the proxy (repeatable; implies --network proxy)
    #[arg(long = "allow-domain", value_name = "D")]
    pub allow_domain: Vec<String>,
    /// Refuse a domain at the proxy (repeatable)
    #[arg(long = "deny-domain", value_name = "D")]
    pub deny_domain: Vec<String>,
    /// Pass an environment variable through (repeatable)
    #[arg(long = "env-keep", value_name = "NAME")]
    pub env_keep: Vec<String>,
    /// Set an environment variable (repeatable)
    #[arg(long = "env-set", value_name = "K=V")]
    pub env_set: Vec<String>,
}

impl PolicyArgs {
    /// The library request these options describe.
    pub fn request(&self) -> PolicyRequest {
        PolicyRequest {
            config: self.config.clone(),
            profile: self.profile.clone(),
            cwd: self.cwd.clone(),
            overrides: Overrides {
                writable: self.writable.clone(),
                readable: self.readable.clone(),
                deny: self.deny.clone(),
                network: self.network.clone(),
                allow_domains: self.allow_domain.clone(),
                deny_domains: self.deny_domain.clone(),
                env_keep: self.env_keep.clone(),
                env_set: self.env_set.clone(),
                only_writable: None,
            },
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Kill the whole process tree after this long (e.g. 30s, 10m) and exit 124
    #[arg(long, value_name = "DUR")]
    pub timeout: Option<String>,
    /// Print one JSON record on stdout after the command ends
    #[arg(long)]
    pub json: bool,
    /// Do not print the summary of denials on stderr
    #[arg(long)]
    pub quiet: bool,
    /// Run even though this named protection cannot be enforced here (repeatable; recorded in --json)
    #[arg(long = "allow-weaker", value_name = "MECHANISM")]
    pub allow_weaker: Vec<String>,
    /// The command and its arguments
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Sessions kept at once; starting one more reaps the one idle longest
    #[arg(long, value_name = "N", default_value_t = stockade::DEFAULT_MAX_SESSIONS)]
    pub max_sessions: usize,
    /// Run even though this named protection cannot be enforced here (repeatable)
    #[arg(long = "allow-weaker", value_name = "MECHANISM")]
    pub allow_weaker: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ShellArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Run even though this named protection cannot be enforced here (repeatable)
    #[arg(long = "allow-weaker", value_name = "MECHANISM")]
    pub allow_weaker: Vec<String>,
    /// The command to run instead of $SHELL
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print the same as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print the same as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Where the HTTP proxy listens, e.g. 127.0.0.1:3128
    #[arg(long, value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// Where the SOCKS5 proxy listens, e.g. 127.0.0.1:1080 (default: none)
    #[arg(long, value_name = "ADDR")]
    pub socks: Option<std::net::SocketAddr>,
    /// The allow, deny and range entries come from this policy
    #[command(flatten)]
    pub policy: PolicyArgs,
}
