//! `stockade-probe`: attempts syscall-level operations and reports each
//! result as one JSON line on stdout.
//!
//! It runs inside a sandbox (`stockade run ... -- stockade-probe OP ARGS`)
//! and knows nothing about stockade: it tries what it is told, forbidden and
//! allowed alike, and says what the kernel answered. Several operations can
//! be chained in one process with `--then`, so that state set by one (a
//! `chroot`, an `unshare`) is visible to the next.
//!
//! Output, one line per operation:
//!
//! ```text
//! {"op":"write","args":["/a","x"],"ok":true}
//! {"op":"read","args":["/b"],"ok":false,"errno":13,"error":"EACCES"}
//! ```
//!
//! plus fields specific to the operation. The exit status is 0 whatever the
//! operations returned; 2 means the probe itself was misused. Names and
//! argument counts of all chained operations are checked before any runs;
//! argument values (numbers, namespace names) when their operation runs, so
//! a bad value stops the chain there with exit 2. `stockade-probe --help`
//! lists the operations.

#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

#[cfg(target_os = "linux")]
mod env;
#[cfg(target_os = "linux")]
mod errno;
#[cfg(target_os = "linux")]
mod fs;
#[cfg(target_os = "linux")]
mod kernel;
#[cfg(target_os = "linux")]
mod net;
#[cfg(target_os = "linux")]
mod process;

use std::ffi::{CString, OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;
use std::str::FromStr;

use serde_json::Value;

/// Extra fields of one report, in output order.
pub(crate) type Fields = Vec<(&'static str, Value)>;

/// Why an operation did not succeed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The kernel refused: `errno`, with whatever else the operation learned.
    Errno { errno: i32, fields: Fields },
    /// The operation does not exist on this machine (e.g. x32 off x86_64).
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    NotApplicable { reason: &'static str },
    /// The probe was called wrongly; exit 2.
    Usage(String),
}

impl Failure {
    pub(crate) fn errno(errno: i32) -> Self {
        Failure::Errno {
            errno,
            fields: Vec::new(),
        }
    }

    /// The same failure with `fields` added (no-op for non-errno failures).
    pub(crate) fn with(mut self, extra: Fields) -> Self {
        if let Failure::Errno { fields, .. } = &mut self {
            fields.extend(extra);
        }
        self
    }
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Self {
        Failure::errno(errno::from_io(&err))
    }
}

pub(crate) type Outcome = Result<Fields, Failure>;

/// One operation: its name, how many arguments it takes, and what it does.
#[derive(Debug)]
pub(crate) struct Op {
    pub name: &'static str,
    /// Argument synopsis for `--help`.
    pub usage: &'static str,
    pub min_args: usize,
    /// `usize::MAX` for "any number".
    pub max_args: usize,
    pub run: fn(&Args) -> Outcome,
}

/// Builds an [`Op`] table entry.
pub(crate) const fn op(
    name: &'static str,
    usage: &'static str,
    min_args: usize,
    max_args: usize,
    run: fn(&Args) -> Outcome,
) -> Op {
    Op {
        name,
        usage,
        min_args,
        max_args,
        run,
    }
}

/// The arguments of one operation.
#[derive(Debug)]
pub(crate) struct Args(Vec<OsString>);

impl Args {
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn os(&self, i: usize) -> &OsStr {
        &self.0[i]
    }

    pub(crate) fn path(&self, i: usize) -> &Path {
        Path::new(&self.0[i])
    }

    pub(crate) fn bytes(&self, i: usize) -> &[u8] {
        self.0[i].as_bytes()
    }

    pub(crate) fn str(&self, i: usize) -> Result<&str, Failure> {
        self.0[i]
            .to_str()
            .ok_or_else(|| Failure::Usage(format!("argument {} is not UTF-8", i + 1)))
    }

    pub(crate) fn cstr(&self, i: usize) -> Result<CString, Failure> {
        CString::new(self.0[i].as_bytes())
            .map_err(|_| Failure::Usage(format!("argument {} contains a NUL byte", i + 1)))
    }

    /// Argument `i` parsed as a decimal number.
    pub(crate) fn num<T: FromStr>(&self, i: usize) -> Result<T, Failure> {
        let s = self.str(i)?;
        s.parse()
            .map_err(|_| Failure::Usage(format!("argument {} is not a number: {s:?}", i + 1)))
    }

    /// Argument `i` parsed as a number in `radix`, with an optional `0x`/`0o` prefix.
    pub(crate) fn radix(&self, i: usize, radix: u32) -> Result<u64, Failure> {
        let s = self.str(i)?;
        let digits = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0o"))
            .unwrap_or(s);
        u64::from_str_radix(digits, radix).map_err(|_| {
            Failure::Usage(format!(
                "argument {} is not a base-{radix} number: {s:?}",
                i + 1
            ))
        })
    }
}

/// Every operation the probe knows, from each module's table.
fn all_ops() -> Vec<&'static Op> {
    #[cfg(target_os = "linux")]
    let tables: &[&[Op]] = &[fs::OPS, process::OPS, kernel::OPS, net::OPS, env::OPS];
    #[cfg(not(target_os = "linux"))]
    let tables: &[&[Op]] = &[];
    tables.iter().flat_map(|t| t.iter()).collect()
}

fn usage(ops: &[&Op]) -> String {
    let mut text = String::from(
        "usage: stockade-probe OP [ARGS...] [--then OP [ARGS...]]...\n\
         prints one JSON line per operation; exit 2 on misuse\n\noperations:\n",
    );
    for op in ops {
        let line = format!("  {} {}", op.name, op.usage);
        text.push_str(line.trim_end());
        text.push('\n');
    }
    if ops.is_empty() {
        text.push_str("  (none: stockade-probe supports only Linux)\n");
    }
    text
}

/// Splits the command line on `--then` and checks every operation's name and
/// arity before anything runs.
fn parse(argv: Vec<OsString>, ops: &[&'static Op]) -> Result<Vec<(&'static Op, Args)>, String> {
    let mut plan = Vec::new();
    for segment in argv.split(|a| a == "--then") {
        let Some((name, rest)) = segment.split_first() else {
            return Err("empty operation (nothing before or after '--then')".into());
        };
        let Some(op) = ops.iter().find(|op| name == op.name) else {
            return Err(format!("unknown op '{}'", name.to_string_lossy()));
        };
        if rest.len() < op.min_args || rest.len() > op.max_args {
            return Err(format!(
                "wrong number of arguments for '{}'\nusage: {} {}",
                op.name, op.name, op.usage
            ));
        }
        plan.push((*op, Args(rest.to_vec())));
    }
    Ok(plan)
}

/// Renders one report line: op, args, ok, errno/error, then the op's fields.
fn render(op: &Op, args: &Args, outcome: &Outcome) -> String {
    let json = |v: &Value| v.to_string();
    let arg_list: Vec<Value> = args
        .0
        .iter()
        .map(|a| Value::from(a.to_string_lossy()))
        .collect();
    let mut line = format!(
        "{{\"op\":{},\"args\":{}",
        json(&Value::from(op.name)),
        json(&Value::from(arg_list))
    );
    let fields = match outcome {
        Ok(fields) => {
            line.push_str(",\"ok\":true");
            fields.as_slice()
        }
        Err(Failure::Errno { errno: e, fields }) => {
            line.push_str(&format!(
                ",\"ok\":false,\"errno\":{e},\"error\":{}",
                json(&Value::from(errno_name(*e)))
            ));
            fields.as_slice()
        }
        Err(Failure::NotApplicable { reason }) => {
            line.push_str(&format!(
                ",\"ok\":false,\"errno\":null,\"error\":\"ENOARCH\",\"reason\":{}",
                json(&Value::from(*reason))
            ));
            &[]
        }
        Err(Failure::Usage(_)) => unreachable!("usage errors are not reported as JSON"),
    };
    for (key, value) in fields {
        line.push_str(&format!(",{}:{}", json(&Value::from(*key)), json(value)));
    }
    line.push('}');
    line
}

#[cfg(target_os = "linux")]
fn errno_name(e: i32) -> String {
    errno::name(e)
}

#[cfg(not(target_os = "linux"))]
fn errno_name(e: i32) -> String {
    format!("errno{e}")
}

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().skip(1).collect();
    let ops = all_ops();
    if argv.is_empty() || argv[0] == "--help" || argv[0] == "-h" {
        let text = usage(&ops);
        return if argv.is_empty() {
            eprint!("{text}");
            ExitCode::from(2)
        } else {
            print!("{text}");
            ExitCode::SUCCESS
        };
    }
    let plan = match parse(argv, &ops) {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("stockade-probe: {message}");
            return ExitCode::from(2);
        }
    };
    let mut stdout = std::io::stdout();
    for (op, args) in plan {
        let outcome = (op.run)(&args);
        if let Err(Failure::Usage(message)) = &outcome {
            eprintln!("stockade-probe: {}: {message}", op.name);
            return ExitCode::from(2);
        }
        // Flushed line by line: a later op may be killed (OOM, a seccomp
        // kill) and the lines before it must already be out.
        let line = render(op, &args, &outcome);
        if writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
