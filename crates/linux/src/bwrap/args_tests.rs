use super::*;
use std::path::PathBuf;

fn plan_of(ops: Vec<MountOp>) -> MountPlan {
    let mut plan = MountPlan::default();
    plan.ops = ops;
    plan
}

fn s(args: &[OsString]) -> String {
    render(args)
}

#[test]
fn the_native_steps_map_to_bwrap_operations_in_order() {
    let plan = plan_of(vec![
        MountOp::RootBind { writable: false },
        MountOp::Bind {
            path: PathBuf::from("/ws"),
            writable: true,
            why: "".into(),
        },
        MountOp::Bind {
            path: PathBuf::from("/ws/.git"),
            writable: false,
            why: "".into(),
        },
        MountOp::Hide {
            path: PathBuf::from("/home/u/.ssh"),
            dir: true,
            reopened: false,
            why: "".into(),
        },
        MountOp::Hide {
            path: PathBuf::from("/home/u/.netrc"),
            dir: false,
            reopened: false,
            why: "".into(),
        },
        MountOp::Tmpfs {
            path: PathBuf::from("/tmp"),
            writable: true,
            why: "".into(),
        },
        MountOp::Proc,
        MountOp::Dev,
    ]);
    assert_eq!(hidden_files(&plan), 1);
    assert_eq!(
        s(&mount_args(&plan, &[10])),
        "--ro-bind / / --bind /ws /ws --ro-bind /ws/.git /ws/.git \
         --perms 0000 --size 65536 --tmpfs /home/u/.ssh --remount-ro /home/u/.ssh \
         --perms 0000 --ro-bind-data 10 /home/u/.netrc \
         --perms 1777 --tmpfs /tmp --proc /proc --dev /dev \
         --perms 0000 --size 4096 --tmpfs /dev/shm --remount-ro /dev/shm"
    );
}

#[test]
fn a_snapshot_binds_each_entry_and_ends_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("a"), "").unwrap();
    std::os::unix::fs::symlink("a", root.join("link")).unwrap();
    std::fs::create_dir(root.join("later")).unwrap();
    let plan = plan_of(vec![
        MountOp::RootTmpfs,
        MountOp::Shadow {
            path: root.to_path_buf(),
            entries: vec!["a".into(), "link".into(), "gone".into()],
            mount_points: vec!["later".into()],
            why: "".into(),
        },
        MountOp::Bind {
            path: root.join("later"),
            writable: true,
            why: "".into(),
        },
    ]);
    let r = root.display();
    let got = s(&mount_args(&plan, &[]));
    assert!(got.starts_with("--perms 0"), "{got}");
    assert!(
        got.contains(&format!(
            "--tmpfs {r} --ro-bind {r}/a {r}/a --symlink a {r}/link --dir {r}/later --bind {r}/later {r}/later"
        )),
        "{got}"
    );
    assert!(
        got.ends_with(&format!("--remount-ro / --remount-ro {r}")),
        "the snapshot and the empty root end read-only, after the binds beneath them: {got}"
    );
}

#[test]
fn sys_and_dev_differences_are_listed() {
    let plan = plan_of(vec![
        MountOp::RootBind { writable: false },
        MountOp::Dev,
        MountOp::Sys,
    ]);
    assert_eq!(differences(&plan).len(), 2);
    assert!(differences(&MountPlan::default()).is_empty());
}
