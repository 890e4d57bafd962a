//! A classic-BPF interpreter for the instructions `bpf.rs` emits, so unit
//! tests can run a compiled filter on any `seccomp_data` without a kernel.
//! It first checks the program the way the kernel's loader does (known
//! opcodes, aligned loads inside `seccomp_data`, jumps inside the program,
//! a `ret` at the end) and panics on anything it would refuse.

use libc::sock_filter;

use super::bpf::{AND_K, ARCH, ARGS, JEQ_K, JGE_K, JSET_K, LD_W_ABS, NR, RET_K};

/// `struct seccomp_data` without the instruction pointer (always 0 here).
#[derive(Clone, Copy, Debug)]
pub(super) struct SeccompData {
    /// Syscall number, as the kernel stores it (`int`, read as 32 bits).
    pub(super) nr: u32,
    /// `AUDIT_ARCH_*` of the calling convention.
    pub(super) arch: u32,
    /// The six arguments, 64 bits each.
    pub(super) args: [u64; 6],
}

/// `sizeof(struct seccomp_data)`.
const DATA_LEN: u32 = 64;

impl SeccompData {
    /// The 32-bit word at byte `offset`, little-endian like both targets.
    fn word(&self, offset: u32) -> u32 {
        assert!(
            offset % 4 == 0 && offset < DATA_LEN,
            "load at {offset} outside seccomp_data"
        );
        match offset {
            NR => self.nr,
            ARCH => self.arch,
            // instruction_pointer
            8 | 12 => 0,
            _ => {
                let arg = self.args[((offset - ARGS) / 8) as usize];
                if (offset - ARGS) % 8 == 0 {
                    arg as u32
                } else {
                    (arg >> 32) as u32
                }
            }
        }
    }
}

/// Checks `program` as the kernel's loader would; panics on what it refuses.
pub(super) fn validate(program: &[sock_filter]) {
    assert!(
        !program.is_empty() && program.len() <= 4096,
        "program length {}",
        program.len()
    );
    for (pc, ins) in program.iter().enumerate() {
        match ins.code {
            LD_W_ABS => assert!(
                ins.k % 4 == 0 && ins.k < DATA_LEN,
                "pc {pc}: load {}",
                ins.k
            ),
            JEQ_K | JGE_K | JSET_K => {
                let furthest = pc + 1 + usize::from(ins.jt.max(ins.jf));
                assert!(furthest < program.len(), "pc {pc}: jump past the end");
            }
            RET_K | AND_K => {}
            code => panic!("pc {pc}: opcode {code:#x} is not one bpf.rs emits"),
        }
    }
    assert_eq!(
        program.last().map(|ins| ins.code),
        Some(RET_K),
        "the program must end in ret"
    );
}

/// Runs `program` on `data` and returns the filter's answer
/// (`SECCOMP_RET_*` with its data bits).
pub(super) fn run(program: &[sock_filter], data: &SeccompData) -> u32 {
    validate(program);
    let mut acc: u32 = 0;
    let mut pc = 0;
    loop {
        let ins = &program[pc];
        let taken = match ins.code {
            LD_W_ABS => {
                acc = data.word(ins.k);
                pc += 1;
                continue;
            }
            AND_K => {
                acc &= ins.k;
                pc += 1;
                continue;
            }
            RET_K => return ins.k,
            JEQ_K => acc == ins.k,
            JGE_K => acc >= ins.k,
            JSET_K => acc & ins.k != 0,
            code => unreachable!("validate refused opcode {code:#x}"),
        };
        pc += 1 + usize::from(if taken { ins.jt } else { ins.jf });
    }
}
