//! Making, joining and removing a run's cgroups.

use super::CgroupPlan;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The cgroups made for one run.
#[derive(Debug, Default)]
pub struct Cgroups {
    dirs: Vec<PathBuf>,
}

impl Cgroups {
    /// Makes the planned cgroups, named `name`, and writes their limits.
    /// On failure what was made is removed again.
    pub fn create(plan: &CgroupPlan, name: &str) -> Result<Cgroups, String> {
        let mut made = Cgroups::default();
        for dir in &plan.dirs {
            if !dir.enable.is_empty() {
                let enable: Vec<String> = dir.enable.iter().map(|c| format!("+{c}")).collect();
                let control = dir.parent.join("cgroup.subtree_control");
                std::fs::write(&control, enable.join(" ")).map_err(|e| {
                    format!(
                        "cannot enable {} in {}: {e}",
                        enable.join(" "),
                        control.display()
                    )
                })?;
            }
            remove_stale(&dir.parent);
            let path = dir.parent.join(name);
            std::fs::create_dir(&path)
                .map_err(|e| format!("cannot make the cgroup {}: {e}", path.display()))?;
            made.dirs.push(path.clone());
            for (file, value) in &dir.settings {
                std::fs::write(path.join(file), value).map_err(|e| {
                    format!("cannot set {} to {value} in {}: {e}", file, path.display())
                })?;
            }
            for (file, value) in &dir.optional {
                match std::fs::write(path.join(file), value) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        return Err(format!(
                            "cannot set {} to {value} in {}: {e}",
                            file,
                            path.display()
                        ));
                    }
                    _ => {}
                }
            }
        }
        Ok(made)
    }

    /// The cgroups' directories.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Removes the cgroups once their processes are gone (the kernel may
    /// take a moment to release a killed tree). A cgroup still busy after
    /// a second is left, with a warning: it holds no process of ours.
    pub fn remove(mut self) {
        self.remove_all();
    }

    fn remove_all(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        for dir in self.dirs.drain(..).rev() {
            loop {
                match std::fs::remove_dir(&dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                    Err(_) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(2))
                    }
                    Err(e) => {
                        eprintln!(
                            "stockade: warning: cannot remove the cgroup {}: {e}",
                            dir.display()
                        );
                        break;
                    }
                }
            }
        }
    }
}

/// Removes the empty cgroups of earlier runs whose stockade is gone (a
/// SIGKILLed stockade cannot remove its own; its sandbox died with it).
fn remove_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix("stockade-"))
            .and_then(|n| n.parse::<u32>().ok());
        if let Some(pid) = pid
            && !Path::new("/proc").join(pid.to_string()).exists()
        {
            // Fails, harmlessly, while it still holds a process.
            let _ = std::fs::remove_dir(entry.path());
        }
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        self.remove_all();
    }
}
