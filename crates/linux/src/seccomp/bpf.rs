//! A small classic-BPF assembler for seccomp filters: an architecture check,
//! the x32 guard, then one block per refused syscall, in the order the rules
//! first name it.
//!
//! ```text
//! block:  jeq nr, +0, +len(body)     ; not this syscall: skip the body
//! body:   (test; ret action)...      ; per rule; a test's "no" skips its ret
//!         ret ALLOW                  ; no rule matched (omitted after an
//!                                    ; unconditional rule)
//! ```
//!
//! A body always ends in `ret`, so the accumulator still holds the syscall
//! number at every block's `jeq`: only the blocks' bodies load arguments.

use libc::sock_filter;

use super::syscalls::Arch;
use super::{Condition, RuleAction, SeccompError, SyscallRule};

// Opcodes, from <linux/bpf_common.h> (class | size | mode, class | op | src).
/// `BPF_LD | BPF_W | BPF_ABS`: A = the 32-bit word of `seccomp_data` at k.
pub(super) const LD_W_ABS: u16 = 0x20;
/// `BPF_JMP | BPF_JEQ | BPF_K`: A == k ? jt : jf.
pub(super) const JEQ_K: u16 = 0x15;
/// `BPF_JMP | BPF_JGE | BPF_K`: A >= k ? jt : jf (unsigned).
pub(super) const JGE_K: u16 = 0x35;
/// `BPF_JMP | BPF_JSET | BPF_K`: A & k != 0 ? jt : jf.
pub(super) const JSET_K: u16 = 0x45;
/// `BPF_RET | BPF_K`: the filter's answer is k.
pub(super) const RET_K: u16 = 0x06;
/// `BPF_ALU | BPF_AND | BPF_K`: A &= k.
pub(super) const AND_K: u16 = 0x54;

// Offsets in `struct seccomp_data { int nr; __u32 arch; __u64
// instruction_pointer; __u64 args[6]; }`.
/// `nr`.
pub(super) const NR: u32 = 0;
/// `arch`.
pub(super) const ARCH: u32 = 4;
/// `args[0]`; each argument is 8 bytes.
pub(super) const ARGS: u32 = 16;

// `syscalls.rs` has an `Arch` for little-endian machines only, where an
// argument's low 32 bits are its first word (`ARGS + 8 * arg`).

/// The kernel's limit on a filter's length (`BPF_MAXINSNS`).
const MAX_INSTRUCTIONS: usize = 4096;
/// The largest errno a filter can return (`MAX_ERRNO`).
const MAX_ERRNO: i32 = 4095;

/// The program for `rules` on `arch`; see the module docs for its shape.
pub(super) fn assemble(
    arch: &Arch,
    rules: &[SyscallRule],
) -> Result<Vec<sock_filter>, SeccompError> {
    let mut program = preamble(arch);
    for (nr, group) in group_by_syscall(arch, rules)? {
        program.extend(syscall_block(nr, &group)?);
    }
    program.push(stmt(RET_K, libc::SECCOMP_RET_ALLOW));
    if program.len() > MAX_INSTRUCTIONS {
        return Err(SeccompError::ProgramTooLong { len: program.len() });
    }
    Ok(program)
}

/// Kills calls from any other architecture, then loads the syscall number
/// and refuses the numbers of another ABI with `ENOSYS`.
fn preamble(arch: &Arch) -> Vec<sock_filter> {
    let mut program = vec![
        stmt(LD_W_ABS, ARCH),
        jump(JEQ_K, arch.audit_arch, 1, 0),
        stmt(RET_K, libc::SECCOMP_RET_KILL_PROCESS),
        stmt(LD_W_ABS, NR),
    ];
    if let Some(first) = arch.foreign_numbers_from {
        program.push(jump(JGE_K, first, 0, 1));
        program.push(stmt(RET_K, errno_return(libc::ENOSYS)));
    }
    program
}

/// The rules grouped by syscall number, in the order each syscall first
/// appears. Checks every rule.
fn group_by_syscall<'r>(
    arch: &Arch,
    rules: &'r [SyscallRule],
) -> Result<Vec<(u32, Vec<&'r SyscallRule>)>, SeccompError> {
    let mut groups: Vec<(u32, Vec<&SyscallRule>)> = Vec::new();
    for rule in rules {
        check(rule)?;
        let nr = arch
            .number(rule.syscall)
            .ok_or(SeccompError::UnknownSyscall {
                syscall: rule.syscall,
                arch: arch.name,
            })?;
        match groups.iter_mut().find(|(known, _)| *known == nr) {
            Some((_, group)) => group.push(rule),
            None => groups.push((nr, vec![rule])),
        }
    }
    Ok(groups)
}

/// Refuses rules that mean something other than what they say.
fn check(rule: &SyscallRule) -> Result<(), SeccompError> {
    if let RuleAction::Errno(errno) = rule.action {
        if !(1..=MAX_ERRNO).contains(&errno) {
            return Err(SeccompError::InvalidErrno {
                syscall: rule.syscall,
                errno,
            });
        }
    }
    match rule.condition {
        Some(condition) => check_condition(rule.syscall, condition, true),
        None => Ok(()),
    }
}

/// One condition; `All` only at the top (`top`).
fn check_condition(
    syscall: &'static str,
    condition: Condition,
    top: bool,
) -> Result<(), SeccompError> {
    let (arg, vacuous) = match condition {
        Condition::AnyBitSet { arg, mask } => (arg, mask == 0),
        Condition::Equals { arg, .. } => (arg, false),
        Condition::NoneOf { arg, values } => (arg, values.is_empty()),
        Condition::MaskedNoneOf { arg, mask, values } => (arg, mask == 0 || values.is_empty()),
        Condition::All { of } => {
            if !top || of.len() < 2 {
                return Err(SeccompError::VacuousCondition { syscall, condition });
            }
            for &inner in of {
                check_condition(syscall, inner, false)?;
            }
            return Ok(());
        }
    };
    if arg > 5 {
        return Err(SeccompError::InvalidArgument { syscall, arg });
    }
    if vacuous {
        return Err(SeccompError::VacuousCondition { syscall, condition });
    }
    Ok(())
}

/// `jeq nr` and the body of one syscall's rules.
fn syscall_block(nr: u32, rules: &[&SyscallRule]) -> Result<Vec<sock_filter>, SeccompError> {
    let syscall = rules[0].syscall;
    let mut body = Vec::new();
    let mut decided = false;
    for rule in rules {
        if decided {
            return Err(SeccompError::ShadowedRule { syscall });
        }
        match rule.condition {
            Some(condition) => body.extend(test(condition, syscall, 1)?),
            None => decided = true,
        }
        body.push(stmt(RET_K, action_return(rule.action)));
    }
    if !decided {
        body.push(stmt(RET_K, libc::SECCOMP_RET_ALLOW));
    }
    let skip = u8::try_from(body.len()).map_err(|_| SeccompError::SyscallTooLong {
        syscall,
        len: body.len() + 1,
    })?;
    let mut block = Vec::with_capacity(body.len() + 1);
    block.push(jump(JEQ_K, nr, 0, skip));
    block.extend(body);
    Ok(block)
}

/// Loads the argument and tests it: a match falls through to what follows
/// (the `ret`, or the next test of an `All`), anything else jumps over the
/// `skip` instructions after the test.
fn test(
    condition: Condition,
    syscall: &'static str,
    skip: usize,
) -> Result<Vec<sock_filter>, SeccompError> {
    let too_long = |len: usize| SeccompError::SyscallTooLong { syscall, len };
    let offset = |n: usize| u8::try_from(n).map_err(|_| too_long(n));
    let (arg, mut code) = match condition {
        Condition::AnyBitSet { arg, mask } => (arg, vec![jump(JSET_K, mask, 0, offset(skip)?)]),
        Condition::Equals { arg, value } => (arg, vec![jump(JEQ_K, value, 0, offset(skip)?)]),
        Condition::NoneOf { arg, values } => (arg, none_of(values, skip, &offset)?),
        Condition::MaskedNoneOf { arg, mask, values } => {
            let mut code = vec![stmt(AND_K, mask)];
            code.extend(none_of(values, skip, &offset)?);
            (arg, code)
        }
        Condition::All { of } => {
            // Built from the last test back: a failing test skips the
            // tests after it as well.
            let mut code = Vec::new();
            for &inner in of.iter().rev() {
                let mut block = test(inner, syscall, skip + code.len())?;
                block.extend(code);
                code = block;
            }
            return Ok(code);
        }
    };
    code.insert(0, stmt(LD_W_ABS, ARGS + 8 * u32::from(arg)));
    Ok(code)
}

/// `jeq value_i`, each jumping past the later values and `skip` more.
fn none_of(
    values: &[u32],
    skip: usize,
    offset: &dyn Fn(usize) -> Result<u8, SeccompError>,
) -> Result<Vec<sock_filter>, SeccompError> {
    let n = values.len();
    values
        .iter()
        .enumerate()
        .map(|(i, &value)| Ok(jump(JEQ_K, value, offset(n - 1 - i + skip)?, 0)))
        .collect()
}

/// `SECCOMP_RET_ERRNO` with `errno` in its data bits.
pub(super) fn errno_return(errno: i32) -> u32 {
    // `check` keeps errno in 1..=4095, well inside SECCOMP_RET_DATA.
    libc::SECCOMP_RET_ERRNO | (errno.unsigned_abs() & libc::SECCOMP_RET_DATA)
}

/// The filter's return value for `action`.
fn action_return(action: RuleAction) -> u32 {
    match action {
        RuleAction::Errno(errno) => errno_return(errno),
        RuleAction::Notify => libc::SECCOMP_RET_USER_NOTIF,
    }
}

/// An instruction that does not jump.
fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// A conditional jump: `jt`/`jf` instructions forward.
fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}
